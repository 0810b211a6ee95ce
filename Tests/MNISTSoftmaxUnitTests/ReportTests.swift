import Foundation
import MNISTSoftmax
import MNISTSoftmaxTestSupport
import Testing

/// The report's parts: axis ticks, the SVG charts, HTML escaping, the training history in the
/// model file, and the page with its pictures.
struct ReportTests {
    // MARK: Axis ticks

    @Test func niceNumbersAreOneTwoOrFiveTimesAPowerOfTen() {
        #expect(AxisScale.niceNumber(0.034, rounding: true) == 0.05)
        #expect(AxisScale.niceNumber(2.6, rounding: true) == 2)
        #expect(AxisScale.niceNumber(140, rounding: true) == 100)
        #expect(AxisScale.niceNumber(140, rounding: false) == 200)
        #expect(AxisScale.niceNumber(8, rounding: true) == 10)
        #expect(AxisScale.niceNumber(4.2, rounding: false) == 5)
    }

    @Test func axisTicksCoverTheDataAtANiceStepWithMatchingDecimals() {
        // Span 0.08 → nice 0.1; step 0.1 / 5 = 0.02; [0.27, 0.35] → [0.26, 0.36].
        let loss = AxisScale(covering: 0.27, 0.35)
        #expect(loss.step == 0.02 && loss.decimals == 2)
        #expect(loss.ticks == [0.26, 0.28, 0.30, 0.32, 0.34, 0.36])
        #expect(loss.ticks.map(loss.label) == ["0.26", "0.28", "0.30", "0.32", "0.34", "0.36"])
        // 3 × 0.2 is 0.6000000000000001 in binary; the tick is rounded to the step's decimals.
        let tenths = AxisScale(covering: 0.1, 0.7)
        #expect(tenths.ticks == [0, 0.2, 0.4, 0.6, 0.8])
        #expect(tenths.ticks.map(tenths.label) == ["0.0", "0.2", "0.4", "0.6", "0.8"])
        // Epochs 1…10: step 2 from 0; 1…3 would want 0.5, but epochs step by whole numbers.
        #expect(AxisScale(covering: 1, 10, integerSteps: true).ticks == [0, 2, 4, 6, 8, 10])
        let three = AxisScale(covering: 1, 3, integerSteps: true)
        #expect(three.ticks == [1, 2, 3] && three.label(2) == "2")
        // 273 L-BFGS iterations: span 272 → 500, step 100 → 0 … 300.
        #expect(AxisScale(covering: 1, 273, integerSteps: true).ticks == [0, 100, 200, 300])
    }

    @Test func aSinglePointStillGetsAnAxisAroundIt() {
        // 92.5 ± 5% → [87.875, 97.125]: span 10, step 2, ticks 86 … 98.
        let accuracy = AxisScale(covering: 92.5, 92.5)
        #expect(accuracy.ticks == [86, 88, 90, 92, 94, 96, 98])
        // 0 ± 1: span 2, step 0.5; zero reads "0.0", never "-0.0".
        let zero = AxisScale(covering: 0, 0)
        #expect(zero.ticks == [-1, -0.5, 0, 0.5, 1])
        #expect(zero.ticks.map(zero.label) == ["-1.0", "-0.5", "0.0", "0.5", "1.0"])
        #expect(AxisScale(covering: 1, 1, integerSteps: true).ticks == [0, 1, 2])
    }

    // MARK: Charts

    /// The values of `attribute` on every `element` tag of `markup`.
    func attributeValues(_ attribute: String, of element: String, in markup: String) -> [String] {
        markup.components(separatedBy: "<\(element) ").dropFirst().compactMap { tag in
            (" " + tag).components(separatedBy: " \(attribute)=\"").dropFirst().first?.components(separatedBy: "\"")
                .first
        }
    }

    /// The text of every `<text …>…</text>` element.
    func texts(in markup: String) -> [String] {
        markup.components(separatedBy: "<text ").dropFirst().compactMap {
            $0.components(separatedBy: ">").dropFirst().first?.components(separatedBy: "</text").first
        }
    }

    @Test func chartDrawsOnePointPerEntryAtItsPlace() {
        let chart = LineChart(
            title: "Loss", xTitle: "epoch", yTitle: "loss", x: [1, 2, 3],
            series: [.init(name: "training", color: "#2166ac", values: [0, 0.5, 1])])
        let svg = chart.svg
        // x 1…3 → plot left 72 … right 560 − 20 = 540; y 0…1 → plot bottom 330 − 54 = 276 … top 40.
        #expect(attributeValues("points", of: "polyline", in: svg) == ["72,276 306,158 540,40"])
        #expect(svg.components(separatedBy: "<circle ").count - 1 == 3)
        let labels = texts(in: svg)
        for label in ["0.0", "0.2", "0.4", "0.6", "0.8", "1.0", "1", "2", "3", "Loss", "epoch", "loss", "training"] {
            #expect(labels.contains(label), "no text \(label) in \(labels)")
        }
        #expect(svg.hasPrefix("<svg xmlns=\"http://www.w3.org/2000/svg\"") && svg.hasSuffix("</svg>"))
    }

    @Test func everySeriesGetsOnePolylineWithAllItsPointsAndALegendEntry() {
        let x = Array(1 ... 7)
        let chart = LineChart(
            title: "Accuracy per epoch", xTitle: "epoch", yTitle: "accuracy", x: x,
            series: [
                .init(name: "training", color: "#2166ac", values: x.map { 80 + Double($0) }),
                .init(name: "validation", color: "#d6604d", values: x.map { 79 + Double($0) }),
            ], yUnit: "%")
        let svg = chart.svg
        let polylines = attributeValues("points", of: "polyline", in: svg)
        #expect(polylines.count == 2)
        #expect(polylines.map { $0.split(separator: " ").count } == [7, 7])
        #expect(attributeValues("data-name", of: "polyline", in: svg) == ["training", "validation"])
        #expect(svg.components(separatedBy: "<circle ").count - 1 == 14)
        let labels = texts(in: svg)
        #expect(labels.contains("validation") && labels.contains("training"))
        // y ticks carry the unit: 80% … 88%.
        #expect(chart.yScale.ticks.allSatisfy { labels.contains(chart.yScale.label($0) + "%") }, "\(labels)")
    }

    @Test func longSeriesHaveNoMarkersButEveryPoint() {
        let x = Array(1 ... 273)
        let chart = LineChart(
            title: "Loss per L-BFGS iteration", xTitle: "L-BFGS iteration", yTitle: "loss", x: x,
            series: [.init(name: "training", color: "#2166ac", values: x.map { 1 / Double($0) })])
        let svg = chart.svg
        #expect(!svg.contains("<circle"))
        #expect(attributeValues("points", of: "polyline", in: svg).first?.split(separator: " ").count == 273)
    }

    @Test func chartTextIsEscaped() {
        let chart = LineChart(
            title: "a < b & \"c\"", xTitle: "x", yTitle: "y", x: [1],
            series: [.init(name: "<script>", color: "red", values: [1])])
        let svg = chart.svg
        #expect(!svg.contains("<script>") && svg.contains("&lt;script&gt;"))
        #expect(svg.contains("a &lt; b &amp; &quot;c&quot;"))
    }

    @Test func htmlEscapingReplacesTheFiveSpecialCharacters() {
        #expect(
            HTMLText.escape(#"<a href="x">Tom & Jerry's</a>"#)
                == "&lt;a href=&quot;x&quot;&gt;Tom &amp; Jerry&#39;s&lt;/a&gt;")
        #expect(HTMLText.escape("plain → ünïcode") == "plain → ünïcode")
        #expect(HTMLText.escape("") == "")
    }

    // MARK: Training history

    static let history = TrainingHistory(
        unit: .epoch, loss: [0.5, 0.375, 0.3125],
        trainingAccuracy: [0.8, 0.85, 0.875], validationAccuracy: [0.75, 0.8, 0.8125])

    @Test func historySurvivesTheModelFile() throws {
        let metadata = [TrainingHistory.metadataKey: Self.history.metadataValue]
        let bytes = SafeTensorsFile.encode(StoredModel(model: SoftmaxModel(), metadata: metadata))
        let read = try SafeTensorsFile.decode(bytes, path: "m.safetensors")
        #expect(try read.trainingHistory() == Self.history)
        #expect(
            Self.history.metadataValue
                == #"{"loss":[0.5,0.375,0.3125],"start":1,"train_accuracy":[0.8,0.85,0.875],"unit":"epoch","validation_accuracy":[0.75,0.8,0.8125]}"#
        )
        // A model without the key has no history, and that is not an error.
        #expect(try StoredModel(model: SoftmaxModel()).trainingHistory() == nil)
    }

    @Test(arguments: [
        (
            #"{"loss":[0.5],"start":1,"train_accuracy":[0.8,0.9],"unit":"epoch"}"#,
            "train_accuracy has 2 entries; loss has 1"
        ),
        (#"{"loss":[0.5],"start":1,"train_accuracy":[1.5],"unit":"epoch"}"#, "train_accuracy entry 0 is 1.5"),
        (#"{"loss":[0.5],"start":0,"train_accuracy":[0.5],"unit":"epoch"}"#, "start is 0"),
        (#"{"loss":[0.5],"start":1,"train_accuracy":[0.5],"unit":"week"}"#, "bad value at unit"),
        (#"{"loss":[0.5],"start":1,"unit":"epoch"}"#, "no \"train_accuracy\""),
        ("[1, 2", "invalid JSON"),
    ])
    func malformedHistoryIsRefusedWithItsReason(value: String, reason: String) {
        let error = thrownError(TrainingHistoryError.self) { try TrainingHistory(metadataValue: value) }
        #expect(error?.reason.contains(reason) == true, "\(String(describing: error))")
    }

    // MARK: The page

    /// A report on three random images, with `metadata` in the model file.
    func tinyReport(metadata: [String: String]) throws -> ModelReport {
        let images = try randomImageBatch(count: 3, seed: 5)
        let model = randomModel(scale: 0.01, seed: 6)
        let evaluation = Evaluation(of: model, on: images)
        return ModelReport(
            modelPath: "runs/<model>.safetensors", stored: StoredModel(model: model, metadata: metadata),
            evaluation: evaluation, evaluatedImages: images,
            mistakes: Misclassification.mostConfident(of: model, on: images, limit: 24),
            dataFiles: DataFileDigest.rows(
                metadata: ["train_images_sha256": MNISTFile.trainImages.sha256],
                testImages: ("t/images", String(repeating: "ab", count: 32)),
                testLabels: ("t/labels", MNISTFile.testLabels.sha256)))
    }

    @Test func pageShowsTheCurvesTheSettingsAndTheDigestsEscaped() throws {
        let report = try tinyReport(metadata: [
            TrainingHistory.metadataKey: Self.history.metadataValue,
            "optimizer": "sgd", "note": "<b>bold</b> & more", "best_epoch": "2",
        ])
        let html = report.html
        #expect(html.contains("Early stopping kept the weights of epoch 2"))
        #expect(html.components(separatedBy: "<svg ").count - 1 == 2)
        #expect(!html.contains("unavailable:"))
        #expect(html.contains("&lt;b&gt;bold&lt;/b&gt; &amp; more") && !html.contains("<b>bold"))
        #expect(html.contains("runs/&lt;model&gt;.safetensors"))
        // The history is drawn, not listed among the settings.
        #expect(!html.contains(">history<"))
        #expect(html.contains("MNIST’s train-images-idx3-ubyte") && html.contains("MNIST’s t10k-labels-idx1-ubyte"))
        #expect(html.contains("not a published MNIST file") && html.contains("not recorded"))
        let validation = ModelReport.charts(Self.history)[1].series.map(\.name)
        #expect(validation == ["training", "validation"])
    }

    @Test func pageWithoutHistorySaysTheCurvesAreUnavailable() throws {
        let old = try tinyReport(metadata: ["optimizer": "sgd"]).html
        #expect(old.contains("Training curves unavailable: this model file records no per-epoch history"))
        #expect(!old.contains("<svg "))
        let broken = try tinyReport(metadata: [TrainingHistory.metadataKey: "{"]).html
        #expect(broken.contains("Training curves unavailable: the training history in the metadata is unusable"))
    }

    @Test func writtenReportHoldsEveryPictureThePageNames() throws {
        try withTemporaryDirectory { directory in
            let output = directory + "/report/nested"
            let page = try tinyReport(metadata: [TrainingHistory.metadataKey: Self.history.metadataValue]).write(
                toDirectory: output)
            #expect(page == output + "/index.html")
            let html = try String(contentsOfFile: page, encoding: .utf8)
            let sources = attributeValues("src", of: "img", in: html)
            #expect(sources.count == 13, "\(sources)")
            for source in sources {
                let picture = try PNGFile.read(output + "/" + source)
                #expect(picture.width > 0 && picture.height > 0)
            }
            // Exactly the page and its pictures: no temporary files left behind.
            let files = try FileManager.default.contentsOfDirectory(atPath: output).sorted()
            #expect(files == (sources + ["index.html"]).sorted())
        }
    }
}
