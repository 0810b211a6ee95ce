/// How the weight magnitude s that the colour map's ends stand for is chosen; a weight w is
/// drawn as `DivergingColorMap.color(for: w / s)`, so |w| ≥ s is full red or blue.
public enum TemplateScaling: String, CaseIterable, Sendable {
    /// One s for all ten classes: the `percentile`-th percentile of |W| over all 7,840 weights,
    /// and the few weights beyond it are clipped to full colour. One outlier pixel then cannot
    /// wash out the other templates, and shades still compare across classes. The default.
    case percentile
    /// One s for all ten classes: max |W|. Nothing is clipped, but a single large weight sets
    /// the scale for all ten templates.
    case max
    /// Each class k has its own s, max |W_k|, so every template uses the full range but shades
    /// differ between templates.
    case perClass = "per-class"

    /// The percentile of `.percentile` unless told otherwise: 99.5, which clips the largest 0.5%
    /// of |W| (39 of 7,840 weights).
    public static let defaultPercentile = 99.5
    /// Accepted percentiles: above 0 and up to 100 (which is max |W|).
    public static func isValidPercentile(_ percentile: Double) -> Bool { percentile > 0 && percentile <= 100 }
}

/// The weight magnitudes that full red and full blue stand for in each template, as chosen by a
/// `TemplateScaling`.
public struct TemplateColorScale: Equatable, Sendable {
    public let scaling: TemplateScaling
    /// The percentile of |W| behind `limits` under `.percentile`; 100 otherwise.
    public let percentile: Double
    /// s_k for each class k: a weight w of class k is drawn as `DivergingColorMap.color(for: w / s_k)`.
    /// The same for all ten except under `.perClass`; 0 only for an all-zero template (drawn white).
    public let limits: [Float]
    /// max |W| over all ten classes.
    public let maximumMagnitude: Float
    /// How many weights lie beyond their class's limit, drawn clipped at full colour.
    public let clippedCount: Int

    /// The scale of `weights` ((10, 784) row-major, finite) under `scaling`. Under `.percentile`,
    /// s is the `percentile`-th percentile of |W| (linear interpolation between order statistics,
    /// as numpy's default); when that is 0 (more than that share of the weights are exactly 0)
    /// s is max |W| instead, so that a sparse model still shows its weights.
    public init(weights: [Float], scaling: TemplateScaling, percentile: Double = TemplateScaling.defaultPercentile) {
        let classCount = SoftmaxModel.classCount
        let featureCount = weights.count / classCount
        // rowMaxima: (10), max |W_k| of each class.
        let rowMaxima = (0 ..< classCount).map { k in
            weights[k * featureCount ..< (k + 1) * featureCount].reduce(0) { Swift.max($0, $1.magnitude) }
        }
        let maximum = rowMaxima.max() ?? 0
        let limits: [Float]
        switch scaling {
        case .percentile:
            let quantile = WeightTemplates.percentile(percentile, of: weights.map(\.magnitude))
            limits = Array(repeating: quantile > 0 ? quantile : maximum, count: classCount)
        case .max:
            limits = Array(repeating: maximum, count: classCount)
        case .perClass:
            limits = rowMaxima
        }
        self.limits = limits
        self.scaling = scaling
        self.percentile = scaling == .percentile ? percentile : 100
        maximumMagnitude = maximum
        clippedCount = weights.indices.filter { weights[$0].magnitude > limits[$0 / featureCount] }.count
    }

    /// The values at the colour bar's five ticks, −s, −s/2, 0, s/2 and s, as drawn: signed, 3
    /// significant digits. Under `.perClass` the limits differ, so the ticks are fractions of
    /// each class's own limit: −1, −0.5, 0, +0.5, +1.
    public var tickLabels: [String] {
        let limit = scaling == .perClass ? 1 : limits.first ?? 0
        return [-1, -0.5, 0, 0.5, 1].map { fraction in Self.signed(limit * Float(fraction)) }
    }

    /// The colour bar's caption: what the colours mean, how s was chosen, and what was clipped.
    public var caption: [String] {
        let meaning = "RED: FOR THE DIGIT   BLUE: AGAINST   WHITE: 0"
        switch scaling {
        case .percentile:
            return [
                meaning, "SCALE: PERCENTILE \(Self.plain(percentile)) OF |W| OVER ALL TEN",
                "\(clippedCount) OF \(limits.count * SoftmaxModel.featureCount) WEIGHTS BEYOND IT CLIPPED (MAX |W| \(Self.signed(maximumMagnitude).dropFirst()))",
            ]
        case .max:
            return [meaning, "SCALE: MAX |W| OVER ALL TEN"]
        case .perClass:
            return [meaning, "SCALE: EACH DIGIT BY ITS OWN MAX |W|", "TICKS: FRACTIONS OF THAT MAX"]
        }
    }

    /// "+0.517", "-1.66", "0": 3 significant digits with a sign.
    static func signed(_ value: Float) -> String {
        value == 0 ? "0" : (value < 0 ? "-" : "+") + formatted("%.3g", Double(value.magnitude))
    }

    /// 99.5 → "99.5", 99 → "99".
    static func plain(_ value: Double) -> String {
        value == value.rounded() ? String(Int(value)) : String(value)
    }
}

/// A template export that cannot be rendered from the given model or options.
public enum WeightTemplateError: Error, CustomStringConvertible, Equatable {
    /// The upscaling factor lies outside `WeightTemplates.scaleRange`.
    case scaleOutOfRange(Int)
    /// The percentile of `TemplateScaling.percentile` is not in (0, 100].
    case percentileOutOfRange(Double)
    /// `weights` does not hold 10 × 784 values.
    case wrongWeightCount(Int)
    /// A weight is NaN or infinite, so no colour scale exists (the model is corrupt or
    /// training diverged).
    case nonFiniteWeight(classIndex: Int, pixelIndex: Int)

    public var description: String {
        switch self {
        case .scaleOutOfRange(let scale):
            return "template scale \(scale) is out of range; use \(WeightTemplates.scaleRange.lowerBound)"
                + "…\(WeightTemplates.scaleRange.upperBound)"
        case .percentileOutOfRange(let percentile):
            return "colour-scale percentile \(percentile) is out of range; use a number above 0 and up to 100"
        case .wrongWeightCount(let count):
            return "model has \(count) weights; a template export needs "
                + "\(SoftmaxModel.classCount)×\(SoftmaxModel.featureCount)"
        case .nonFiniteWeight(let classIndex, let pixelIndex):
            return "weight of class \(classIndex) at pixel \(pixelIndex) (row \(pixelIndex / WeightTemplates.side), "
                + "column \(pixelIndex % WeightTemplates.side)) is not finite; the model is corrupt or training diverged"
        }
    }
}

/// Pictures of a softmax model's weights: row k of W, viewed as a 28×28 image, is the
/// template that class k matches against an input.
///
/// Each weight w of class k is shown as `DivergingColorMap.color(for: w / s_k)`, where s_k comes
/// from `TemplateColorScale` (by default the 99.5th percentile of |W|, the same for all ten);
/// s_k = 0 (an all-zero template) shows white. Positive weights (pixels that vote for the class)
/// are red, negative ones blue, and |w| ≥ s_k is full colour. Each weight becomes a
/// `scale` × `scale` block of identical pixels (nearest-neighbour upscaling), so a template is
/// (28·scale) × (28·scale) pixels.
///
/// The montage, on a `gutterColor` background, places classes 0–4 left to right in the top row
/// and 5–9 in the bottom row, each under its digit, with gutters and an outer margin of `scale`
/// pixels; below them a colour bar from −s to +s with five labelled ticks and a caption saying
/// how s was chosen. Text is `BitmapFont` at `textScale(forScale:)`; `tileOrigin` gives where
/// each template lies.
public enum WeightTemplates {
    /// Side of an MNIST image and of a template, in weights.
    public static let side = 28
    /// Templates per montage row.
    public static let montageColumns = 5
    /// Rows of templates in the montage.
    public static let montageRows = 2
    /// Accepted upscaling factors: 1 keeps one pixel per weight; 64 gives 1792-pixel templates.
    public static let scaleRange = 1 ... 64
    /// Light grey for the montage's background, distinct from the white of zero weights.
    public static let gutterColor = RGBColor(red: 224, green: 224, blue: 224)
    /// The montage's text: digit labels, tick labels and caption.
    public static let textColor = RGBColor(red: 32, green: 32, blue: 32)
    /// File name of the montage written by `write`.
    public static let montageFileName = "templates.png"

    /// File name of the template of class `classIndex` written by `write`: "class-k.png".
    public static func classFileName(_ classIndex: Int) -> String {
        "class-\(classIndex).png"
    }

    /// The ten templates, the montage, and the colour scale they were drawn with.
    public struct Rendered: Sendable {
        /// Each (28·scale) × (28·scale), unlabelled.
        public let classes: [RGBImage]
        /// The labelled 2 × 5 grid with its colour bar.
        public let montage: RGBImage
        public let colorScale: TemplateColorScale
    }

    /// Writes `class-0.png` … `class-9.png` and `templates.png` into `directory` (created with
    /// its parents if missing) and returns their paths in that order.
    ///
    /// Everything is rendered and validated before the directory is touched; each file is
    /// written atomically. Throws `WeightTemplateError` for a bad model, scale or percentile,
    /// and `FileAccessError` or `PNGError` when the files cannot be written.
    @discardableResult
    public static func write(
        _ model: SoftmaxModel, toDirectory directory: String, scale: Int = 8, scaling: TemplateScaling = .percentile,
        percentile: Double = TemplateScaling.defaultPercentile
    ) throws -> [String] {
        let rendered = try render(model, scale: scale, scaling: scaling, percentile: percentile)
        try FileIO.createDirectory(directory)
        let names = (0 ..< SoftmaxModel.classCount).map(classFileName) + [montageFileName]
        let images = rendered.classes + [rendered.montage]
        var paths: [String] = []
        for (name, image) in zip(names, images) {
            let path = PathName.joining(directory, name)
            try PNGFile.write(image, to: path)
            paths.append(path)
        }
        return paths
    }

    /// The ten class templates, each (28·scale) × (28·scale), and the labelled montage of all
    /// ten; see the type's documentation for colours and layout.
    public static func render(
        _ model: SoftmaxModel, scale: Int = 8, scaling: TemplateScaling = .percentile,
        percentile: Double = TemplateScaling.defaultPercentile
    ) throws -> Rendered {
        guard scaleRange.contains(scale) else { throw WeightTemplateError.scaleOutOfRange(scale) }
        guard TemplateScaling.isValidPercentile(percentile) else {
            throw WeightTemplateError.percentileOutOfRange(percentile)
        }
        // weights: (10, 784) row-major.
        let weights = model.weights
        let featureCount = SoftmaxModel.featureCount
        guard weights.count == SoftmaxModel.classCount * featureCount else {
            throw WeightTemplateError.wrongWeightCount(weights.count)
        }
        if let index = weights.firstIndex(where: { !$0.isFinite }) {
            throw WeightTemplateError.nonFiniteWeight(
                classIndex: index / featureCount, pixelIndex: index % featureCount)
        }
        let colorScale = TemplateColorScale(weights: weights, scaling: scaling, percentile: percentile)
        let classes = colorScale.limits.enumerated().map { k, limit in
            renderTemplate(weights[k * featureCount ..< (k + 1) * featureCount], divisor: limit, scale: scale)
        }
        return Rendered(
            classes: classes, montage: montage(of: classes, colorScale: colorScale, scale: scale),
            colorScale: colorScale)
    }

    /// The `percentile`-th percentile (0…100) of `values`, interpolating linearly between the two
    /// nearest order statistics as numpy's `np.percentile` does by default: with v sorted
    /// ascending and r = p/100 · (n − 1), v[⌊r⌋] + (r − ⌊r⌋)·(v[⌊r⌋ + 1] − v[⌊r⌋]). 0 for no values.
    public static func percentile(_ percentile: Double, of values: [Float]) -> Float {
        guard !values.isEmpty else { return 0 }
        let sorted = values.sorted()
        let rank = min(max(percentile, 0), 100) / 100 * Double(sorted.count - 1)
        let lower = Int(rank.rounded(.down))
        let upper = min(lower + 1, sorted.count - 1)
        let fraction = rank - Double(lower)
        return Float(Double(sorted[lower]) + fraction * (Double(sorted[upper]) - Double(sorted[lower])))
    }

    /// The font scale of the montage's text for an upscaling factor: 3 at the default 8, at least 1.
    public static func textScale(forScale scale: Int) -> Int { Swift.max(1, scale * 3 / 8) }

    /// Height of the band above each template that holds its digit: the text and a gap of 2 font pixels.
    static func labelBandHeight(scale: Int) -> Int {
        BitmapFont.height(scale: textScale(forScale: scale)) + 2 * textScale(forScale: scale)
    }

    /// The top-left corner of class k's template in the montage.
    public static func tileOrigin(of classIndex: Int, scale: Int) -> (x: Int, y: Int) {
        let templateSide = side * scale
        let band = labelBandHeight(scale: scale)
        return (
            scale + (classIndex % montageColumns) * (templateSide + scale),
            scale + band + (classIndex / montageColumns) * (band + templateSide + scale)
        )
    }

    /// template: (784) = (28, 28) row-major weights → (28·scale, 28·scale) RGB.
    private static func renderTemplate(_ template: ArraySlice<Float>, divisor: Float, scale: Int) -> RGBImage {
        var image = RGBImage(width: side * scale, height: side * scale)
        let rowByteCount = image.width * 3
        var line: [UInt8] = []
        line.reserveCapacity(rowByteCount)
        for row in 0 ..< side {
            // One weight row becomes one pixel row, each weight repeated `scale` times ...
            line.removeAll(keepingCapacity: true)
            for weight in template.dropFirst(row * side).prefix(side) {
                let color = DivergingColorMap.color(for: divisor > 0 ? weight / divisor : 0)
                for _ in 0 ..< scale {
                    line.append(color.red)
                    line.append(color.green)
                    line.append(color.blue)
                }
            }
            // ... and that pixel row is repeated `scale` times.
            for y in row * scale ..< (row + 1) * scale {
                image.pixels.replaceSubrange(y * rowByteCount ..< (y + 1) * rowByteCount, with: line)
            }
        }
        return image
    }

    /// Ten (28·scale)² templates → 2 × 5 grid, each under its digit, then the colour bar and its caption.
    private static func montage(of templates: [RGBImage], colorScale: TemplateColorScale, scale: Int) -> RGBImage {
        let templateSide = side * scale
        let text = textScale(forScale: scale)
        let lineHeight = BitmapFont.height(scale: text)
        let gridWidth = montageColumns * (templateSide + scale) - scale
        let gridBottom = tileOrigin(of: templates.count - 1, scale: scale).y + templateSide
        // The bar spans three templates, centred; its five ticks are labelled below it.
        let barWidth = 3 * templateSide + 2 * scale
        let barHeight = 5 * text
        let tickLabels = colorScale.tickLabels
        let widestTick = tickLabels.map { BitmapFont.width(of: $0, scale: text) }.max() ?? 0
        let caption = colorScale.caption
        let contentWidth = ([gridWidth, barWidth + widestTick] + caption.map { BitmapFont.width(of: $0, scale: text) })
            .max()!
        let barLeft = scale + (contentWidth - barWidth) / 2
        let barTop = gridBottom + 4 * text
        let tickTop = barTop + barHeight
        let tickLabelTop = tickTop + 3 * text
        let captionTop = tickLabelTop + lineHeight + 4 * text
        var image = RGBImage(
            width: contentWidth + 2 * scale,
            height: captionTop + caption.count * (lineHeight + 3 * text) - 3 * text + 2 * scale,
            filledWith: gutterColor)

        let templateRowByteCount = templateSide * 3
        for (k, template) in templates.enumerated() {
            let (left, top) = tileOrigin(of: k, scale: scale)
            image.draw(
                String(k), centeredAt: left + templateSide / 2, y: top - labelBandHeight(scale: scale), scale: text,
                color: textColor)
            for y in 0 ..< templateSide {
                let source = y * templateRowByteCount
                let destination = ((top + y) * image.width + left) * 3
                image.pixels.replaceSubrange(
                    destination ..< destination + templateRowByteCount,
                    with: template.pixels[source ..< source + templateRowByteCount])
            }
        }
        // The bar: column x shows t = −1 + 2·(x + ½)/width, the value t·s.
        for x in 0 ..< barWidth {
            let t = -1 + 2 * (Float(x) + 0.5) / Float(barWidth)
            image.fill(x: barLeft + x, y: barTop, width: 1, height: barHeight, color: DivergingColorMap.color(for: t))
        }
        let tickWidth = Swift.max(1, text / 2)
        for (index, label) in tickLabels.enumerated() {
            let x = barLeft + index * (barWidth - tickWidth) / (tickLabels.count - 1)
            image.fill(x: x, y: tickTop, width: tickWidth, height: 2 * text, color: textColor)
            image.draw(label, centeredAt: x + tickWidth / 2, y: tickLabelTop, scale: text, color: textColor)
        }
        for (index, line) in caption.enumerated() {
            image.draw(
                line, centeredAt: scale + contentWidth / 2, y: captionTop + index * (lineHeight + 3 * text),
                scale: text, color: textColor)
        }
        return image
    }
}
