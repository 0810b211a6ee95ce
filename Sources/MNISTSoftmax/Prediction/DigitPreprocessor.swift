/// An image that holds no digit to classify.
public typealias DigitImageError = LocatedError<DigitImageProblem>

/// Why an image holds no digit to classify.
public enum DigitImageProblem: FileProblem {
    /// Every pixel is fully transparent.
    case fullyTransparent
    /// The strongest ink differs from the background by `contrast` grey levels, below the
    /// `DigitPreprocessor.minimumContrast` that counts as a stroke.
    case blank(contrast: Int)

    public var message: String {
        switch self {
        case .fullyTransparent:
            "every pixel is fully transparent, so there is no digit to classify"
        case .blank(let contrast):
            "the image is blank: its strongest stroke differs from the background by "
                + "\(contrast) grey levels, below the \(DigitPreprocessor.minimumContrast) that count as ink"
        }
    }

    public var hint: String? {
        switch self {
        case .fullyTransparent: nil
        case .blank: "draw the digit with a clearly darker (or lighter) stroke than the background"
        }
    }
}

/// A photo or drawing of a digit turned into what the model expects: a 28×28 image of ink
/// (0 none … 255 full), made the way MNIST made its images from NIST's scans.
public struct PreprocessedDigit: Equatable, Sendable {
    /// (28, 28) u8 row-major ink: the model's input.
    public let input: GrayImage
    /// True when the source was dark ink on a light background and was inverted.
    public let wasInverted: Bool
    /// The ink's bounding box in the source image: left, top, width, height in pixels.
    public let inkBox: (x: Int, y: Int, width: Int, height: Int)

    public static func == (a: PreprocessedDigit, b: PreprocessedDigit) -> Bool {
        a.input == b.input && a.wasInverted == b.wasInverted && a.inkBox == b.inkBox
    }
}

/// MNIST's preprocessing, applied to any image of a digit.
///
/// 1. Flatten: an image with transparency is composited onto white when its paint is dark (mean
///    grey < 128, weighted by alpha) and onto black otherwise, so the strokes always show.
/// 2. Polarity: the background is the median of the border pixels. On a light background
///    (median ≥ 128) ink = background − grey, otherwise ink = grey − background (negatives are 0).
///    The strongest ink must be at least `minimumContrast`; then ink is stretched so that it
///    peaks at 255, and anything below `noiseFloor` of the peak becomes 0.
/// 3. Crop to the bounding box of the remaining ink.
/// 4. Fit it into 20×20 keeping the aspect ratio (the longer side becomes 20), by area
///    averaging: each output pixel is the mean of the source area it covers, which anti-aliases
///    the edges as MNIST's resampling did; the result is stretched again to peak at 255.
/// 5. Place it in a 28×28 field so that its centre of mass Σ v·(x, y) / Σ v lands on pixel
///    (14, 14), MNIST's own mean centre of mass in index coordinates, rounded to whole pixels and
///    moved no further than keeps the whole box inside the field.
public enum DigitPreprocessor {
    /// Side of the model's input, in pixels.
    public static let side = 28
    /// Side of the box that the ink's bounding box is fitted into.
    public static let boxSide = 20
    /// Where the centre of mass is placed, in pixel index coordinates (x, y).
    public static let centreOfMass = 14.0
    /// The least difference, in grey levels, between the strongest ink and the background.
    public static let minimumContrast = 32
    /// Ink below this fraction of the peak is treated as background noise.
    public static let noiseFloor = 0.2

    /// The model input for the image with grey and alpha planes of the same size; `path` names
    /// the source in errors. Throws `DigitImageError` for a transparent or blank image.
    public static func preprocess(gray: GrayImage, alpha: GrayImage, path: String) throws -> PreprocessedDigit {
        precondition(gray.width == alpha.width && gray.height == alpha.height, "grey and alpha planes differ in size")
        let luminance = try flatten(gray: gray, alpha: alpha, path: path)
        let (ink, wasInverted) = try inkPlane(of: luminance, path: path)
        // A blank image was refused above, so some ink is above the noise floor.
        let box = inkBoundingBox(of: ink)!
        let fitted = fit(ink, box: box)
        return PreprocessedDigit(input: centred(fitted), wasInverted: wasInverted, inkBox: box)
    }

    /// Step 1: grey composited onto white or black by the alpha plane.
    static func flatten(gray: GrayImage, alpha: GrayImage, path: String) throws -> GrayImage {
        guard alpha.pixels.contains(where: { $0 != 255 }) else { return gray }
        var weightSum = 0.0, paintSum = 0.0
        for (value, opacity) in zip(gray.pixels, alpha.pixels) {
            weightSum += Double(opacity)
            paintSum += Double(opacity) * Double(value)
        }
        guard weightSum > 0 else { throw DigitImageError(path: path, problem: .fullyTransparent) }
        let background = paintSum / weightSum < 128 ? 255.0 : 0.0
        var flat = gray
        for index in flat.pixels.indices {
            let a = Double(alpha.pixels[index]) / 255
            flat.pixels[index] = UInt8((a * Double(gray.pixels[index]) + (1 - a) * background).rounded())
        }
        return flat
    }

    /// Step 2: ink 0…255 from luminance, and whether the image was dark on light.
    static func inkPlane(of luminance: GrayImage, path: String) throws -> (ink: GrayImage, wasInverted: Bool) {
        let (width, height) = (luminance.width, luminance.height)
        var border: [UInt8] = []
        for y in 0 ..< height {
            for x in 0 ..< width where y == 0 || y == height - 1 || x == 0 || x == width - 1 {
                border.append(luminance[x: x, y: y])
            }
        }
        let background = Int(border.sorted()[border.count / 2])
        let darkOnLight = background >= 128
        // raw: (height, width) ink before stretching, 0…255.
        let raw = luminance.pixels.map { value in
            max(0, darkOnLight ? background - Int(value) : Int(value) - background)
        }
        let peak = raw.max() ?? 0
        guard peak >= minimumContrast else {
            throw DigitImageError(path: path, problem: .blank(contrast: peak))
        }
        let floor = noiseFloor * Double(peak)
        let ink = raw.map { value in Double(value) < floor ? 0 : UInt8((Double(value) * 255 / Double(peak)).rounded()) }
        return (GrayImage(width: width, height: height, pixels: ink)!, darkOnLight)
    }

    /// Step 3: the smallest box holding every non-zero pixel, or nil when there is none.
    static func inkBoundingBox(of ink: GrayImage) -> (x: Int, y: Int, width: Int, height: Int)? {
        var (left, top, right, bottom) = (Int.max, Int.max, -1, -1)
        for y in 0 ..< ink.height {
            for x in 0 ..< ink.width where ink[x: x, y: y] > 0 {
                (left, top, right, bottom) = (min(left, x), min(top, y), max(right, x), max(bottom, y))
            }
        }
        return right < 0 ? nil : (left, top, right - left + 1, bottom - top + 1)
    }

    /// Step 4: the box of `ink` resampled by area averaging so its longer side is 20 pixels;
    /// the other side is round(20 · short / long), at least 1.
    static func fit(_ ink: GrayImage, box: (x: Int, y: Int, width: Int, height: Int)) -> GrayImage {
        let longer = max(box.width, box.height)
        let outputWidth = max(1, Int((Double(boxSide * box.width) / Double(longer)).rounded()))
        let outputHeight = max(1, Int((Double(boxSide * box.height) / Double(longer)).rounded()))
        let columnWeights = areaWeights(from: box.width, to: outputWidth)
        let rowWeights = areaWeights(from: box.height, to: outputHeight)
        // horizontal: (box.height, outputWidth), each row resampled along x.
        var horizontal = [Double](repeating: 0, count: box.height * outputWidth)
        for y in 0 ..< box.height {
            for (column, weights) in columnWeights.enumerated() {
                horizontal[y * outputWidth + column] = weights.reduce(0) { sum, term in
                    sum + term.weight * Double(ink[x: box.x + term.source, y: box.y + y])
                }
            }
        }
        // resampled: (outputHeight, outputWidth), then along y.
        var resampled = [Double](repeating: 0, count: outputHeight * outputWidth)
        for (row, weights) in rowWeights.enumerated() {
            for column in 0 ..< outputWidth {
                resampled[row * outputWidth + column] = weights.reduce(0) { sum, term in
                    sum + term.weight * horizontal[term.source * outputWidth + column]
                }
            }
        }
        let peak = resampled.max() ?? 0
        let pixels = resampled.map { peak > 0 ? UInt8(($0 * 255 / peak).rounded()) : 0 }
        return GrayImage(width: outputWidth, height: outputHeight, pixels: pixels)!
    }

    /// For each of `outputCount` cells covering `sourceCount` pixels, the source pixels it
    /// overlaps and the overlap's share of the cell: output cell i spans source coordinates
    /// [i·s, (i+1)·s) with s = sourceCount / outputCount, and its weights sum to 1.
    static func areaWeights(from sourceCount: Int, to outputCount: Int) -> [[(source: Int, weight: Double)]] {
        let step = Double(sourceCount) / Double(outputCount)
        return (0 ..< outputCount).map { cell in
            let start = Double(cell) * step, end = Double(cell + 1) * step
            return (Int(start) ..< min(sourceCount, Int(end.rounded(.up)))).compactMap { source in
                let overlap = min(end, Double(source + 1)) - max(start, Double(source))
                return overlap > 0 ? (source, overlap / step) : nil
            }
        }
    }

    /// Step 5: `digit` pasted into a 28×28 field with its centre of mass on (14, 14).
    static func centred(_ digit: GrayImage) -> GrayImage {
        var mass = 0.0, sumX = 0.0, sumY = 0.0
        for y in 0 ..< digit.height {
            for x in 0 ..< digit.width {
                let value = Double(digit[x: x, y: y])
                mass += value
                sumX += value * Double(x)
                sumY += value * Double(y)
            }
        }
        // The fitted digit peaks at 255, so its mass is positive.
        func offset(centre: Double, size: Int) -> Int {
            min(max(Int((centreOfMass - centre).rounded()), 0), side - size)
        }
        let left = offset(centre: sumX / mass, size: digit.width)
        let top = offset(centre: sumY / mass, size: digit.height)
        var field = GrayImage(width: side, height: side)
        for y in 0 ..< digit.height {
            for x in 0 ..< digit.width {
                field[x: left + x, y: top + y] = digit[x: x, y: y]
            }
        }
        return field
    }
}
