/// One data file in the report's digest table: its role, where it was read (nil for the training
/// files, whose digests the model file recorded when it was trained) and the SHA-256 of its
/// decompressed IDX content (nil when not recorded).
public struct DataFileDigest: Equatable, Sendable {
    public var role: String
    public var path: String?
    public var sha256: String?

    public init(role: String, path: String?, sha256: String?) {
        self.role = role
        self.path = path
        self.sha256 = sha256
    }

    /// The digest table's rows for a model file and the test set it was evaluated on: the training
    /// digests from the metadata (`train_images_sha256`, `train_labels_sha256`), then the test files'.
    public static func rows(
        metadata: [String: String], testImages: (path: String, sha256: String),
        testLabels: (path: String, sha256: String)
    ) -> [DataFileDigest] {
        [
            DataFileDigest(role: "training images", path: nil, sha256: metadata[ModelReport.trainImagesDigestKey]),
            DataFileDigest(role: "training labels", path: nil, sha256: metadata[ModelReport.trainLabelsDigestKey]),
            DataFileDigest(role: "test images", path: testImages.path, sha256: testImages.sha256),
            DataFileDigest(role: "test labels", path: testLabels.path, sha256: testLabels.sha256),
        ]
    }
}

/// A trained model's report: one self-contained HTML page, `index.html`, and the pictures it
/// shows, as PNG files beside it. It needs no network and no script.
///
/// Sections: a summary; the training curves (loss, training and validation accuracy per epoch or
/// L-BFGS iteration, as inline SVG from `LineChart`), or a note saying why they are unavailable;
/// the ten weight templates with their colour scale; the confusion heatmap beside the per-class
/// precision/recall/F1 table; the most confidently misclassified images; the settings recorded
/// in the model file; the SHA-256 of the data files.
public struct ModelReport {
    /// File names of the pictures, inside the report's directory.
    public static let confusionFileName = "confusion.png"
    public static let errorsFileName = "errors.png"
    public static let colorBarFileName = "colour-scale.png"
    public static func templateFileName(_ classIndex: Int) -> String { "template-\(classIndex).png" }
    public static let pageFileName = "index.html"
    /// Each template weight becomes a square of this many pixels.
    public static let templateScale = 5
    /// The templates' colour scale: the `export-weights` command's default, the 99.5th percentile of
    /// |W| over all ten classes, so that a few large weights do not wash out the rest.
    static let templateScaling = TemplateScaling.percentile

    static let trainImagesDigestKey = "train_images_sha256"
    static let trainLabelsDigestKey = "train_labels_sha256"
    /// Metadata shown elsewhere than in the settings table.
    static let metadataShownElsewhere: Set<String> = [
        TrainingHistory.metadataKey, trainImagesDigestKey, trainLabelsDigestKey,
    ]
    static let trainingColor = "#2166ac"
    static let validationColor = "#d6604d"

    /// The model file, as named on the command line.
    public var modelPath: String
    public var stored: StoredModel
    /// The evaluation on the test set.
    public var evaluation: Evaluation
    /// The images evaluated, as the model saw them (preprocessed): the montage draws them.
    public var evaluatedImages: LabeledImages
    /// The most confident mistakes on `evaluatedImages`, most confident first.
    public var mistakes: [Misclassification]
    public var dataFiles: [DataFileDigest]

    public init(
        modelPath: String, stored: StoredModel, evaluation: Evaluation, evaluatedImages: LabeledImages,
        mistakes: [Misclassification], dataFiles: [DataFileDigest]
    ) {
        self.modelPath = modelPath
        self.stored = stored
        self.evaluation = evaluation
        self.evaluatedImages = evaluatedImages
        self.mistakes = mistakes
        self.dataFiles = dataFiles
    }

    /// Writes the pictures and then `index.html` into `directory` (created with its parents if
    /// missing), every file atomically, and returns the page's path. Everything is rendered before
    /// the directory is touched. Throws `WeightTemplateError` for a model that cannot be drawn,
    /// `FileAccessError` or `PNGError` when a file cannot be written.
    @discardableResult
    public func write(toDirectory directory: String) throws -> String {
        let templates = try WeightTemplates.render(
            stored.model, scale: Self.templateScale, scaling: Self.templateScaling
        ).classes
        let pictures: [(String, RGBImage)] =
            templates.enumerated().map { (Self.templateFileName($0), $1) } + [
                (Self.colorBarFileName, Self.colorBar()),
                (Self.confusionFileName, ConfusionHeatmap.render(evaluation.confusion)),
                (Self.errorsFileName, MisclassificationMontage.render(mistakes, images: evaluatedImages)),
            ]
        let page = html
        try FileIO.createDirectory(directory)
        for (name, image) in pictures {
            try PNGFile.write(image, to: PathName.joining(directory, name))
        }
        let pagePath = PathName.joining(directory, Self.pageFileName)
        try FileIO.writeAtomically(Array(page.utf8), to: pagePath)
        return pagePath
    }

    /// The colour scale of the templates: `DivergingColorMap` from −1 (left) to +1 (right), 256 × 14.
    static func colorBar() -> RGBImage {
        var image = RGBImage(width: 256, height: 14)
        for x in 0 ..< 256 {
            image.fill(x: x, y: 0, width: 1, height: 14, color: DivergingColorMap.color(for: Float(x) / 127.5 - 1))
        }
        return image
    }

    /// The charts of `history`: the loss, then the accuracies (training, and validation when recorded).
    public static func charts(_ history: TrainingHistory) -> [LineChart] {
        let unit = history.unit == .epoch ? "epoch" : "L-BFGS iteration"
        let x = history.entryNumbers
        let loss = LineChart(
            title: "Training loss per \(unit)", xTitle: unit, yTitle: "loss (with the L2 term)", x: x,
            series: [.init(name: "training", color: trainingColor, values: history.loss.map(Double.init))])
        var accuracies = [
            LineChart.Series(
                name: "training", color: trainingColor, values: history.trainingAccuracy.map { Double($0) * 100 })
        ]
        if let validation = history.validationAccuracy {
            accuracies.append(
                .init(name: "validation", color: validationColor, values: validation.map { Double($0) * 100 }))
        }
        let accuracy = LineChart(
            title: "Accuracy per \(unit)", xTitle: unit, yTitle: "accuracy", x: x, series: accuracies, yUnit: "%")
        return [loss, accuracy]
    }

    /// The page, referring to the pictures by their file names.
    public var html: String {
        let e = HTMLText.escape
        let metadata = stored.metadata
        let modelName = PathName.lastComponent(of: modelPath)
        var body: [String] = []
        body.append("<header><h1>mnist-softmax report</h1><p class=\"model\">\(e(modelPath))</p></header>")

        // Summary cards.
        let correct = evaluation.confusion.indices.reduce(0) { $0 + evaluation.confusion[$1][$1] }
        var cards: [(String, String)] = [
            ("test accuracy", Self.percent(evaluation.accuracy)),
            ("correct", "\(Self.grouped(correct)) of \(Self.grouped(evaluation.count))"),
            ("mean test loss", formatted("%.4f", evaluation.meanLoss) + " (\(stored.lossFunction.rawValue))"),
        ]
        if let optimizer = metadata["optimizer"] {
            let run = metadata["epochs_run"].map { "\($0) epochs" } ?? metadata["iterations"].map { "\($0) iterations" }
            cards.append(("optimizer", optimizer + (run.map { ", \($0)" } ?? "")))
        }
        if stored.preprocessing != .none { cards.append(("preprocessing", stored.preprocessing.rawValue)) }
        body.append(
            "<section class=\"cards\">"
                + cards.map {
                    "<div class=\"card\"><div class=\"label\">\(e($0.0))</div><div class=\"value\">\(e($0.1))</div></div>"
                }.joined() + "</section>")

        body.append(curvesSection)
        body.append(templatesSection)

        // Confusion heatmap beside the per-class table.
        let confusionAlt =
            "Confusion matrix of \(evaluation.count) test images as a heatmap: rows are true labels, columns predicted labels"
        body.append(
            """
            <section id="evaluation"><h2>Test set: confusion matrix and per-class metrics</h2>
            <div class="row">
            <figure><img src="\(Self.confusionFileName)" alt="\(e(confusionAlt))"></figure>
            \(perClassTable)
            </div></section>
            """)

        let shown = mistakes.count
        body.append(
            """
            <section id="errors"><h2>Most confident errors</h2>
            <p>The \(shown) test image\(shown == 1 ? "" : "s") the model got wrong with the highest probability for its wrong answer, \
            labelled true→predicted and that probability, as the model saw \(shown == 1 ? "it" : "them")\(stored.preprocessing == .none ? "" : " (after \(e(stored.preprocessing.rawValue)))").</p>
            <figure><img src="\(Self.errorsFileName)" alt="The \(shown) most confidently misclassified test images" class="montage"></figure>
            </section>
            """)

        body.append(settingsSection)
        body.append(dataSection)

        return """
            <!DOCTYPE html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>mnist-softmax report: \(e(modelName))</title>
            <style>
            \(Self.stylesheet)
            </style>
            </head>
            <body>
            <main>
            \(body.joined(separator: "\n"))
            </main>
            </body>
            </html>

            """
    }

    private var curvesSection: String {
        let e = HTMLText.escape
        let history: TrainingHistory?
        do {
            history = try stored.trainingHistory()
        } catch {
            return Self.unavailableCurves("\(e(error.description)).")
        }
        guard let history else {
            return Self.unavailableCurves(
                """
                this model file records no per-epoch history: it was written by an mnist-softmax from before \
                <code>train</code> recorded one, or by another tool. Train the model again to see the curves.
                """)
        }
        guard history.count > 0 else { return Self.unavailableCurves("the recorded history is empty.") }
        var notes: [String] = []
        notes.append(
            history.unit == .epoch
                ? "SGD: the loss and training accuracy of an epoch are means over its batches, each at the weights that batch saw."
                : "L-BFGS: the loss (the full objective) and the training accuracy at the weights each iteration accepted."
        )
        if history.validationAccuracy == nil {
            notes.append("No validation curve: the model was trained without <code>--validation-split</code>.")
        }
        if let best = stored.metadata["best_epoch"] {
            notes.append(
                "Early stopping kept the weights of \(history.unit.rawValue) \(e(best)), the lowest validation loss.")
        }
        if history.start > 1 {
            notes.append(
                "The run resumed from a checkpoint after epoch \(history.start - 1); the earlier epochs’ metrics are not in the file."
            )
        }
        let charts = Self.charts(history).map { "<figure class=\"chart\">\n\($0.svg)\n</figure>" }
        return """
            <section id="curves"><h2>Training curves</h2>
            <div class="row">
            \(charts.joined(separator: "\n"))
            </div>
            <p class="note">\(notes.joined(separator: " "))</p>
            </section>
            """
    }

    private static func unavailableCurves(_ reasonHTML: String) -> String {
        """
        <section id="curves"><h2>Training curves</h2>
        <p class="unavailable">Training curves unavailable: \(reasonHTML)</p>
        </section>
        """
    }

    private var templatesSection: String {
        let side = WeightTemplates.side * Self.templateScale
        // The scale `write` drew the templates with.
        let colorScale = TemplateColorScale(weights: stored.model.weights, scaling: Self.templateScaling)
        let cells = (0 ..< SoftmaxModel.classCount).map { k in
            "<figure class=\"template\"><img src=\"\(Self.templateFileName(k))\" alt=\"Weight template of digit \(k)\" width=\"\(side)\" height=\"\(side)\"><figcaption>\(k)</figcaption></figure>"
        }
        let limit = formatted("%.3f", colorScale.limits.first ?? 0)
        let clipped =
            colorScale.clippedCount == 0
            ? ""
            : " (the \(Self.grouped(colorScale.clippedCount)) weights beyond it are drawn at full colour; "
                + "max |W| is \(formatted("%.3f", colorScale.maximumMagnitude)))"
        return """
            <section id="templates"><h2>Weight templates</h2>
            <p>Row k of W as a 28×28 image: the pattern class k matches against an input. Red pixels vote for the class, blue against; \
            one colour scale for all ten, whose ends stand for the \(TemplateColorScale.plain(colorScale.percentile))th percentile of |W|\(clipped), \
            as in <code>mnist-softmax export-weights</code>.</p>
            <div class="templates">\(cells.joined())</div>
            <figure class="scale"><img src="\(Self.colorBarFileName)" alt="Colour scale from −\(limit) (blue) through 0 (white) to +\(limit) (red)" width="256" height="14">
            <figcaption><span>−\(limit)</span><span>0</span><span>+\(limit)</span></figcaption></figure>
            </section>
            """
    }

    private var perClassTable: String {
        let metrics = evaluation.perClass
        var rows = metrics.map { m in
            "<tr><td>\(m.label)</td><td>\(Self.fixed(m.precision))</td><td>\(Self.fixed(m.recall))</td><td>\(Self.fixed(m.f1))</td><td>\(Self.grouped(m.support))</td></tr>"
        }
        let count = Double(max(metrics.count, 1))
        let macro = (
            metrics.reduce(0) { $0 + $1.precision } / count, metrics.reduce(0) { $0 + $1.recall } / count,
            metrics.reduce(0) { $0 + $1.f1 } / count
        )
        rows.append(
            "<tr class=\"total\"><td>macro mean</td><td>\(Self.fixed(macro.0))</td><td>\(Self.fixed(macro.1))</td><td>\(Self.fixed(macro.2))</td><td>\(Self.grouped(evaluation.count))</td></tr>"
        )
        return """
            <table class="metrics"><caption>Per class, on the test set</caption>
            <thead><tr><th>label</th><th>precision</th><th>recall</th><th>F1</th><th>support</th></tr></thead>
            <tbody>
            \(rows.joined(separator: "\n"))
            </tbody></table>
            """
    }

    private var settingsSection: String {
        let e = HTMLText.escape
        let keys = stored.metadata.keys.filter { !Self.metadataShownElsewhere.contains($0) }.sorted()
        guard !keys.isEmpty else {
            return
                "<section id=\"settings\"><h2>Settings</h2><p class=\"unavailable\">The model file records no settings.</p></section>"
        }
        let rows = keys.map { "<tr><th>\(e($0))</th><td>\(e(stored.metadata[$0]!))</td></tr>" }
        return """
            <section id="settings"><h2>Settings</h2>
            <p>As recorded in the model file’s metadata when it was trained.</p>
            <table class="settings"><tbody>
            \(rows.joined(separator: "\n"))
            </tbody></table></section>
            """
    }

    private var dataSection: String {
        let e = HTMLText.escape
        let rows = dataFiles.map { file -> String in
            let source = file.path.map { "<code>\(e($0))</code>" } ?? "recorded at training"
            let digest =
                file.sha256.map { "<code>\(e($0))</code>" } ?? "<span class=\"unavailable\">not recorded</span>"
            let known = file.sha256.flatMap { digest in MNISTFile.all.first { $0.sha256 == digest } }
            let match =
                known.map { "MNIST’s \(e($0.name))" } ?? (file.sha256 == nil ? "" : "not a published MNIST file")
            return
                "<tr><td>\(e(file.role))</td><td>\(source)</td><td class=\"digest\">\(digest)</td><td>\(match)</td></tr>"
        }
        return """
            <section id="data"><h2>Data</h2>
            <p>SHA-256 of each file’s decompressed IDX content, the digests MNIST’s publishers list.</p>
            <table class="data"><thead><tr><th>file</th><th>read from</th><th>SHA-256</th><th>identified as</th></tr></thead>
            <tbody>
            \(rows.joined(separator: "\n"))
            </tbody></table></section>
            """
    }

    static func percent(_ fraction: Double) -> String { formatted("%.2f%%", fraction * 100) }
    static func fixed(_ value: Double) -> String { formatted("%.4f", value) }

    /// 10000 → "10,000".
    static func grouped(_ value: Int) -> String {
        let digits = String(value.magnitude)
        var groups: [Substring] = []
        var end = digits.endIndex
        while end > digits.startIndex {
            let start = digits.index(end, offsetBy: -3, limitedBy: digits.startIndex) ?? digits.startIndex
            groups.insert(digits[start ..< end], at: 0)
            end = start
        }
        return (value < 0 ? "-" : "") + groups.joined(separator: ",")
    }

    static let stylesheet = """
        :root { color-scheme: light; }
        body { margin: 0; background: #f4f5f7; color: #1d1d1f; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
        main { max-width: 1320px; margin: 0 auto; padding: 24px 28px 48px; }
        header h1 { margin: 0; font-size: 26px; }
        header .model { margin: 2px 0 0; color: #555; font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: 13px; }
        h2 { font-size: 19px; margin: 0 0 10px; }
        section { background: #fff; border: 1px solid #dde0e4; border-radius: 8px; padding: 18px 20px; margin: 18px 0 0; }
        section.cards { display: flex; flex-wrap: wrap; gap: 12px; background: none; border: none; padding: 0; }
        .card { background: #fff; border: 1px solid #dde0e4; border-radius: 8px; padding: 10px 16px; min-width: 150px; }
        .card .label { color: #666; font-size: 12px; text-transform: uppercase; letter-spacing: .04em; }
        .card .value { font-size: 20px; font-weight: 600; }
        .row { display: flex; flex-wrap: wrap; gap: 24px; align-items: flex-start; }
        figure { margin: 0; }
        figcaption { color: #555; font-size: 13px; max-width: 740px; }
        .chart { flex: 1 1 480px; max-width: 600px; }
        .chart svg { display: block; width: 100%; height: auto; border: 1px solid #eceef1; border-radius: 6px; }
        .note, .unavailable { color: #555; font-size: 14px; }
        .unavailable { font-style: italic; }
        .templates { display: grid; grid-template-columns: repeat(5, max-content); gap: 12px 16px; }
        .template figcaption { text-align: center; font-weight: 600; font-size: 15px; color: #222; }
        .template img, .montage { image-rendering: pixelated; border: 1px solid #ccc; }
        .scale { margin-top: 14px; width: 256px; }
        .scale figcaption { display: flex; justify-content: space-between; }
        table { border-collapse: collapse; font-size: 14px; }
        caption { text-align: left; color: #555; padding-bottom: 6px; }
        th, td { padding: 4px 10px; border-bottom: 1px solid #eceef1; text-align: right; }
        th { font-weight: 600; }
        .metrics tr.total td { border-top: 2px solid #ccc; font-weight: 600; }
        .settings th, .data th, .data td { text-align: left; }
        .settings th { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-weight: normal; color: #444; }
        .settings td { text-align: left; word-break: break-all; }
        .digest code { font-size: 12px; word-break: break-all; }
        code { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: 13px; }
        """
}
