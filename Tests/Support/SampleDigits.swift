import CLibPNG
import Foundation
import MNISTSoftmax

// The sample digit images in Resources/samples/, drawn here from pen strokes (no MNIST data).
// `SampleDigitTests` checks that the committed files are exactly what this code draws; set
// MNIST_SOFTMAX_REDRAW_SAMPLES=1 to write them again after changing a stroke.

/// A point in a digit's box: x from the left, y from the top, both in units of the box height.
struct PenPoint {
    var x: Double
    var y: Double
}

/// Pen strokes of each digit 0…9, in a box 1 unit high and about 0.7 wide: polylines, with
/// curves as arcs of ellipses (angles in degrees, 0 to the right, 90 downwards).
enum DigitStrokes {
    static func arc(_ cx: Double, _ cy: Double, _ rx: Double, _ ry: Double, from start: Double, to end: Double)
        -> [PenPoint]
    {
        let steps = max(8, Int(abs(end - start) / 6))
        return (0 ... steps).map { step in
            let angle = (start + (end - start) * Double(step) / Double(steps)) * .pi / 180
            return PenPoint(x: cx + rx * cos(angle), y: cy + ry * sin(angle))
        }
    }

    static func line(_ points: (Double, Double)...) -> [PenPoint] {
        points.map { PenPoint(x: $0.0, y: $0.1) }
    }

    static func strokes(of digit: Int) -> [[PenPoint]] {
        switch digit {
        case 0: return [arc(0.35, 0.5, 0.29, 0.48, from: -90, to: 275)]
        case 1: return [line((0.42, 0.0), (0.3, 1.0))]
        case 2: return [arc(0.35, 0.27, 0.27, 0.25, from: 195, to: 385) + line((0.05, 0.98), (0.7, 0.97))]
        case 3:
            return [arc(0.33, 0.25, 0.26, 0.23, from: 205, to: 445) + arc(0.33, 0.73, 0.3, 0.25, from: 270, to: 505)]
        case 4: return [line((0.12, 0.0), (0.06, 0.6), (0.7, 0.6)), line((0.56, 0.05), (0.53, 1.0))]
        case 5: return [line((0.66, 0.02), (0.16, 0.03), (0.12, 0.45)) + arc(0.36, 0.7, 0.3, 0.28, from: 235, to: 495)]
        case 6: return [line((0.58, 0.0), (0.34, 0.22), (0.14, 0.5)) + arc(0.38, 0.73, 0.26, 0.25, from: 190, to: 550)]
        case 7: return [line((0.03, 0.04), (0.7, 0.04), (0.28, 1.0))]
        case 8: return [arc(0.35, 0.25, 0.22, 0.23, from: 0, to: 360), arc(0.35, 0.73, 0.28, 0.26, from: 0, to: 360)]
        case 9: return [arc(0.35, 0.27, 0.27, 0.26, from: 0, to: 360), line((0.62, 0.28), (0.56, 1.0))]
        default: preconditionFailure("a digit is 0…9")
        }
    }
}

/// How a sample stores its pixels: libpng's format and the bytes per pixel.
enum SampleFormat: Sendable {
    case gray, grayAlpha, rgb

    var channels: Int { self == .gray ? 1 : self == .grayAlpha ? 2 : 3 }

    var pngFormat: png_uint_32 {
        switch self {
        case .gray: return png_uint_32(PNG_FORMAT_GRAY)
        case .grayAlpha: return png_uint_32(PNG_FORMAT_GA)
        case .rgb: return png_uint_32(PNG_FORMAT_RGB)
        }
    }
}

/// One sample picture: a digit drawn with a round pen of `penWidth` (in box units) at
/// `origin` with box height `height` (pixels), in `ink` over `paper` (channel values in
/// `format`; with alpha the paper is transparent).
public struct SampleDigit: Sendable {
    public let name: String
    public let digit: Int
    let width: Int
    let height: Int
    let origin: (x: Double, y: Double)
    let digitHeight: Double
    let penWidth: Double
    let format: SampleFormat
    let ink: [UInt8]
    let paper: [UInt8]

    public var fileName: String { "digit-\(digit)-\(name).png" }

    /// The folder of the committed sample pictures.
    public static let directory = packageRoot + "/Resources/samples"

    /// Each variant the issue asks for, and every digit once.
    public static let all: [SampleDigit] = [
        SampleDigit(
            name: "dark-on-light", digit: 3, width: 200, height: 200, origin: (62, 25), digitHeight: 150,
            penWidth: 0.11, format: .gray, ink: [20], paper: [245]),
        SampleDigit(
            name: "light-on-dark", digit: 7, width: 200, height: 200, origin: (62, 25), digitHeight: 150,
            penWidth: 0.11, format: .gray, ink: [240], paper: [25]),
        SampleDigit(
            name: "off-centre", digit: 2, width: 320, height: 180, origin: (225, 95), digitHeight: 70,
            penWidth: 0.12, format: .gray, ink: [30], paper: [230]),
        SampleDigit(
            name: "large", digit: 5, width: 900, height: 900, origin: (200, 60), digitHeight: 780,
            penWidth: 0.11, format: .gray, ink: [0], paper: [255]),
        SampleDigit(
            name: "small", digit: 4, width: 18, height: 18, origin: (4, 2), digitHeight: 14,
            penWidth: 0.13, format: .gray, ink: [0], paper: [255]),
        SampleDigit(
            name: "blue-ink-on-cream", digit: 0, width: 160, height: 220, origin: (35, 30), digitHeight: 160,
            penWidth: 0.11, format: .rgb, ink: [30, 50, 150], paper: [250, 240, 210]),
        SampleDigit(
            name: "chalk-on-green", digit: 1, width: 200, height: 200, origin: (65, 25), digitHeight: 150,
            penWidth: 0.11, format: .rgb, ink: [235, 235, 225], paper: [40, 70, 50]),
        SampleDigit(
            name: "dark-on-transparent", digit: 6, width: 200, height: 200, origin: (60, 25), digitHeight: 150,
            penWidth: 0.11, format: .grayAlpha, ink: [10, 255], paper: [0, 0]),
        SampleDigit(
            name: "light-on-transparent", digit: 9, width: 200, height: 200, origin: (60, 25), digitHeight: 150,
            penWidth: 0.11, format: .grayAlpha, ink: [255, 255], paper: [255, 0]),
        SampleDigit(
            name: "grey-paper", digit: 8, width: 240, height: 200, origin: (85, 25), digitHeight: 150,
            penWidth: 0.11, format: .rgb, ink: [60, 60, 60], paper: [190, 190, 190]),
    ]

    /// (height, width, channels) row-major: ink blended over paper by the pen's coverage of each
    /// pixel, 1 within the stroke, falling linearly to 0 over the pixel at its edge.
    public func draw() -> [UInt8] {
        let segments = DigitStrokes.strokes(of: digit).flatMap { stroke in
            zip(stroke, stroke.dropFirst()).map { (a, b) in
                (
                    PenPoint(x: origin.x + a.x * digitHeight, y: origin.y + a.y * digitHeight),
                    PenPoint(x: origin.x + b.x * digitHeight, y: origin.y + b.y * digitHeight)
                )
            }
        }
        let radius = penWidth * digitHeight / 2
        var pixels = [UInt8](repeating: 0, count: width * height * format.channels)
        for y in 0 ..< height {
            for x in 0 ..< width {
                let centre = PenPoint(x: Double(x) + 0.5, y: Double(y) + 0.5)
                let distance = segments.map { Self.distance(from: centre, to: $0.0, $0.1) }.min() ?? .infinity
                let coverage = min(max(radius + 0.5 - distance, 0), 1)
                for channel in 0 ..< format.channels {
                    let value = coverage * Double(ink[channel]) + (1 - coverage) * Double(paper[channel])
                    pixels[(y * width + x) * format.channels + channel] = UInt8(value.rounded())
                }
            }
        }
        return pixels
    }

    /// Distance from `p` to the segment from `a` to `b`.
    static func distance(from p: PenPoint, to a: PenPoint, _ b: PenPoint) -> Double {
        let (dx, dy) = (b.x - a.x, b.y - a.y)
        let lengthSquared = dx * dx + dy * dy
        let t = lengthSquared == 0 ? 0 : min(max(((p.x - a.x) * dx + (p.y - a.y) * dy) / lengthSquared, 0), 1)
        let (ex, ey) = (p.x - a.x - t * dx, p.y - a.y - t * dy)
        return (ex * ex + ey * ey).squareRoot()
    }

    /// Writes `pixels` as a PNG in this sample's format through libpng's simplified API.
    public func write(_ pixels: [UInt8], to path: String) throws {
        try FileIO.writeAtomically(to: path) { temporaryPath in try writeDirectly(pixels, to: temporaryPath) }
    }

    private func writeDirectly(_ pixels: [UInt8], to path: String) throws {
        var control = png_image()
        control.version = png_uint_32(PNG_IMAGE_VERSION)
        control.width = png_uint_32(width)
        control.height = png_uint_32(height)
        control.format = format.pngFormat
        let written = pixels.withUnsafeBytes {
            png_image_write_to_file(&control, path, 0, $0.baseAddress, png_int_32(width * format.channels), nil)
        }
        guard written != 0 else {
            throw PNGError(path: path, operation: .write, message: "libpng could not write the sample")
        }
    }

    /// The PNG at `path` decoded in this sample's format, or nil when libpng cannot read it.
    public func read(from path: String) -> [UInt8]? {
        var control = png_image()
        control.version = png_uint_32(PNG_IMAGE_VERSION)
        guard png_image_begin_read_from_file(&control, path) != 0 else { return nil }
        control.format = format.pngFormat
        var pixels = [UInt8](repeating: 0, count: Int(control.width) * Int(control.height) * format.channels)
        let finished = pixels.withUnsafeMutableBytes { png_image_finish_read(&control, nil, $0.baseAddress, 0, nil) }
        return finished != 0 && Int(control.width) == width && Int(control.height) == height ? pixels : nil
    }
}
