import Foundation

/// How template weights are normalised to the colour map's range [−1, 1].
public enum TemplateScaling: String, CaseIterable, Sendable {
    /// Every class is divided by one value, max |W| over all ten classes, so colours can be
    /// compared across templates: the same shade means the same weight. The default.
    case shared
    /// Each class k is divided by its own max |W_k|, so every template uses the full range
    /// (its strongest weight is pure red or pure blue) but shades differ between templates.
    case perClass = "per-class"
}

/// A template export that cannot be rendered from the given model or options.
public enum WeightTemplateError: Error, CustomStringConvertible, Equatable {
    /// The upscaling factor lies outside `WeightTemplates.scaleRange`.
    case scaleOutOfRange(Int)
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
/// Each weight w of class k is shown as `DivergingColorMap.color(for: w / s)`, where s is
/// max |W| over all classes (`.shared`) or over row k (`.perClass`); s = 0 (an all-zero
/// template) shows white. Positive weights (pixels that vote for the class) are red,
/// negative ones blue. Each weight becomes a `scale` × `scale` block of identical pixels
/// (nearest-neighbour upscaling), so a template is (28·scale) × (28·scale) pixels.
///
/// The montage places classes 0–4 left to right in the top row and 5–9 in the bottom row,
/// with a gutter of `scale` pixels between templates and an outer margin of the same width,
/// both in `gutterColor`. It is therefore (5·28 + 6)·scale = 146·scale pixels wide and
/// (2·28 + 3)·scale = 59·scale pixels high; class k's top-left corner is at
/// x = scale + (k mod 5)·29·scale, y = scale + ⌊k / 5⌋·29·scale.
public enum WeightTemplates {
    /// Side of an MNIST image and of a template, in weights.
    public static let side = 28
    /// Templates per montage row.
    public static let montageColumns = 5
    /// Rows of templates in the montage.
    public static let montageRows = 2
    /// Accepted upscaling factors: 1 keeps one pixel per weight; 64 gives 1792-pixel templates.
    public static let scaleRange = 1...64
    /// Light grey for the montage's gutters and margin, distinct from the white of zero weights.
    public static let gutterColor = RGBColor(red: 224, green: 224, blue: 224)
    /// File name of the montage written by `write`.
    public static let montageFileName = "templates.png"

    /// File name of the template of class `classIndex` written by `write`: "class-k.png".
    public static func classFileName(_ classIndex: Int) -> String {
        "class-\(classIndex).png"
    }

    /// Writes `class-0.png` … `class-9.png` and `templates.png` into `directory` (created with
    /// its parents if missing) and returns their paths in that order.
    ///
    /// Everything is rendered and validated before the directory is touched; each file is
    /// written atomically. Throws `WeightTemplateError` for a bad model or scale, and
    /// `FileAccessError` or `PNGError` when the files cannot be written.
    @discardableResult
    public static func write(
        _ model: SoftmaxModel, toDirectory directory: String, scale: Int = 8, scaling: TemplateScaling = .shared
    ) throws -> [String] {
        let rendered = try render(model, scale: scale, scaling: scaling)
        try FileIO.createDirectory(directory)
        let names = (0..<SoftmaxModel.classCount).map(classFileName) + [montageFileName]
        let images = rendered.classes + [rendered.montage]
        var paths: [String] = []
        for (name, image) in zip(names, images) {
            let path = (directory as NSString).appendingPathComponent(name)
            try PNGFile.write(image, to: path)
            paths.append(path)
        }
        return paths
    }

    /// The ten class templates, each (28·scale) × (28·scale), and the montage of all ten
    /// (146·scale × 59·scale); see the type's documentation for colours and layout.
    public static func render(
        _ model: SoftmaxModel, scale: Int = 8, scaling: TemplateScaling = .shared
    ) throws -> (classes: [RGBImage], montage: RGBImage) {
        guard scaleRange.contains(scale) else { throw WeightTemplateError.scaleOutOfRange(scale) }
        // weights: (10, 784) row-major.
        let weights = model.weights
        let classCount = SoftmaxModel.classCount
        let featureCount = SoftmaxModel.featureCount
        guard weights.count == classCount * featureCount else {
            throw WeightTemplateError.wrongWeightCount(weights.count)
        }
        if let index = weights.firstIndex(where: { !$0.isFinite }) {
            throw WeightTemplateError.nonFiniteWeight(classIndex: index / featureCount, pixelIndex: index % featureCount)
        }
        // rowMaxima: (10), max |W_k| of each class.
        let rowMaxima = (0..<classCount).map { k in
            weights[k * featureCount ..< (k + 1) * featureCount].reduce(0) { max($0, $1.magnitude) }
        }
        let sharedMaximum = rowMaxima.max() ?? 0
        let classes = (0..<classCount).map { k in
            let divisor = scaling == .shared ? sharedMaximum : rowMaxima[k]
            return renderTemplate(weights[k * featureCount ..< (k + 1) * featureCount], divisor: divisor, scale: scale)
        }
        return (classes, montage(of: classes, scale: scale))
    }

    /// template: (784) = (28, 28) row-major weights → (28·scale, 28·scale) RGB.
    private static func renderTemplate(_ template: ArraySlice<Float>, divisor: Float, scale: Int) -> RGBImage {
        var image = RGBImage(width: side * scale, height: side * scale)
        let rowByteCount = image.width * 3
        var line: [UInt8] = []
        line.reserveCapacity(rowByteCount)
        for row in 0..<side {
            // One weight row becomes one pixel row, each weight repeated `scale` times ...
            line.removeAll(keepingCapacity: true)
            for weight in template.dropFirst(row * side).prefix(side) {
                let color = DivergingColorMap.color(for: divisor > 0 ? weight / divisor : 0)
                for _ in 0..<scale {
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

    /// Ten (28·scale)² templates → 2 × 5 grid with `scale`-pixel gutters and margin.
    private static func montage(of templates: [RGBImage], scale: Int) -> RGBImage {
        let templateSide = side * scale
        let pitch = templateSide + scale
        var image = RGBImage(
            width: montageColumns * pitch + scale, height: montageRows * pitch + scale, filledWith: gutterColor)
        let templateRowByteCount = templateSide * 3
        for (k, template) in templates.enumerated() {
            let left = scale + (k % montageColumns) * pitch
            let top = scale + (k / montageColumns) * pitch
            for y in 0..<templateSide {
                let source = y * templateRowByteCount
                let destination = ((top + y) * image.width + left) * 3
                image.pixels.replaceSubrange(
                    destination ..< destination + templateRowByteCount,
                    with: template.pixels[source ..< source + templateRowByteCount])
            }
        }
        return image
    }
}
