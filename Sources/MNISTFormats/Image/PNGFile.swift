import CLibPNG
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A PNG file that libpng could not read or write, naming the path (never the temporary file of
/// an atomic write), libpng's message and, where one is useful, a hint about the likely cause.
public typealias PNGError = LocatedError<PNGProblem>

/// Why libpng could not read or write a PNG file.
public struct PNGProblem: FileProblem {
    public enum Operation: String, Equatable, Sendable {
        case read
        case write
    }

    public let operation: Operation
    /// libpng's message, or this module's own reason for refusing the image.
    public let reason: String
    public let hint: String?

    public init(operation: Operation, reason: String, hint: String? = nil) {
        self.operation = operation
        self.reason = reason
        self.hint = hint
    }

    public var message: String { "cannot \(operation.rawValue) PNG: \(reason)" }
}

extension LocatedError where P == PNGProblem {
    public init(path: String, operation: PNGProblem.Operation, message: String, hint: String? = nil) {
        self.init(path: path, problem: PNGProblem(operation: operation, reason: message, hint: hint))
    }

    public var operation: PNGProblem.Operation { problem.operation }
    /// libpng's message, or this module's own reason for refusing the image.
    public var message: String { problem.reason }
}

/// Reads and writes 8-bit RGB and greyscale PNG files through libpng's simplified API
/// (`png_image_write_to_file`, `png_image_begin_read_from_file`, `png_image_finish_read`),
/// which reports errors through return values rather than `setjmp`/`longjmp`.
public enum PNGFile {
    /// The largest image, in pixels, that `read` accepts and `write` produces:
    /// 8192 × 8192 = 2²⁶ pixels, 192 MiB as RGB. `read` checks it against the PNG header
    /// before allocating the pixel buffer, so a hostile header cannot demand gigabytes.
    public static let maximumPixelCount = 8192 * 8192

    /// Writes `image` to `path` as an 8-bit RGB PNG, atomically: a reader sees either the
    /// previous file or the whole new one, and a failure leaves no temporary file behind.
    ///
    /// Throws `PNGError` for an empty image, a pixel buffer that does not hold
    /// `height * width * 3` bytes, an image above `maximumPixelCount`, or a libpng failure
    /// (such as a missing or read-only directory); throws `FileAccessError` when `path` is a
    /// directory or the finished file cannot be synced or renamed into place.
    public static func write(_ image: RGBImage, to path: String) throws {
        try write(
            image.pixels, width: image.width, height: image.height, channels: 3,
            format: png_uint_32(PNG_FORMAT_RGB), to: path)
    }

    /// Writes `image` to `path` as an 8-bit greyscale PNG (0 black, 255 white), atomically, with
    /// the same checks and errors as the RGB `write`.
    public static func write(_ image: GrayImage, to path: String) throws {
        try write(
            image.pixels, width: image.width, height: image.height, channels: 1,
            format: png_uint_32(PNG_FORMAT_GRAY), to: path)
    }

    /// pixels: (height, width, channels) row-major u8, in libpng's `format`.
    private static func write(
        _ pixels: [UInt8], width: Int, height: Int, channels: Int,
        format: png_uint_32, to path: String
    ) throws {
        try validateForWriting(byteCount: pixels.count, width: width, height: height, channels: channels, path: path)
        try FileIO.writeAtomically(to: path) { temporaryPath in
            var control = png_image()
            control.version = png_uint_32(PNG_IMAGE_VERSION)
            control.width = png_uint_32(width)
            control.height = png_uint_32(height)
            control.format = format
            // Rows are contiguous; the stride fits in png_int_32 below the pixel cap.
            let rowStride = png_int_32(width * channels)
            let written = pixels.withUnsafeBytes { bytes in
                png_image_write_to_file(&control, temporaryPath, 0, bytes.baseAddress, rowStride, nil)
            }
            guard written != 0, !failed(control) else {
                let message = messageText(of: control)
                png_image_free(&control)
                throw PNGError(
                    path: path, operation: .write, message: message,
                    hint: "check that the directory exists and is writable and the disk is not full")
            }
        }
    }

    /// Reads the PNG file at `path` as 8-bit RGB.
    ///
    /// Any valid PNG is accepted: grey images are expanded to RGB, 16-bit samples are reduced
    /// to 8 bits, palettes are resolved, and an alpha channel is composited onto white.
    /// Images above `maximumPixelCount` are refused from their header, before any pixel
    /// buffer is allocated.
    ///
    /// Throws `FileAccessError` when `path` is missing or is not a regular file (a FIFO
    /// would otherwise block), and `PNGError` for files that are not PNG, are truncated or
    /// corrupt, or are too large.
    public static func read(_ path: String) throws -> RGBImage {
        let (width, height, pixels) = try read(path, format: png_uint_32(PNG_FORMAT_RGB), channels: 3)
        guard let image = RGBImage(width: width, height: height, pixels: pixels) else {
            throw PNGError(path: path, operation: .read, message: "libpng returned an image of the wrong size")
        }
        return image
    }

    /// Reads the PNG file at `path` as 8-bit grey (sRGB luminance, 0 black … 255 white) and
    /// alpha (0 transparent … 255 opaque), without compositing: colour images are converted to
    /// grey by libpng, and images without alpha get an all-255 alpha plane.
    ///
    /// Same limits and errors as `read(_:)`.
    public static func readGrayAndAlpha(_ path: String) throws -> (gray: GrayImage, alpha: GrayImage) {
        let (width, height, pixels) = try read(path, format: png_uint_32(PNG_FORMAT_GA), channels: 2)
        return try grayAndAlphaPlanes(width: width, height: height, pixels: pixels, name: path)
    }

    /// Decodes a PNG held in memory, as `readGrayAndAlpha(_:)` reads a file: 8-bit grey and alpha
    /// planes, no compositing. `name` stands for the source in errors (such as "request body").
    ///
    /// `maximumPixelCount` (at most `PNGFile.maximumPixelCount`) caps width × height; it is checked
    /// against the PNG header before the pixel buffer is allocated, so that a few hundred bytes
    /// declaring a huge image (a decompression bomb) cost no memory. Throws `PNGError` for bytes
    /// that are not a PNG, are truncated or corrupt (bad CRC, bad zlib stream), or are too large.
    public static func readGrayAndAlpha(
        pngBytes: [UInt8], name: String,
        maximumPixelCount: Int = maximumPixelCount
    ) throws -> (gray: GrayImage, alpha: GrayImage) {
        let (width, height, pixels) = try pngBytes.withUnsafeBytes { bytes in
            try decode(
                name: name, format: png_uint_32(PNG_FORMAT_GA), channels: 2,
                maximumPixelCount: min(maximumPixelCount, Self.maximumPixelCount)
            ) { control in
                png_image_begin_read_from_memory(&control, bytes.baseAddress, bytes.count)
            }
        }
        return try grayAndAlphaPlanes(width: width, height: height, pixels: pixels, name: name)
    }

    /// pixels: (height, width, 2) row-major (grey, alpha) pairs, split into two planes.
    private static func grayAndAlphaPlanes(width: Int, height: Int, pixels: [UInt8], name: String) throws -> (
        gray: GrayImage, alpha: GrayImage
    ) {
        guard
            let gray = GrayImage(
                width: width, height: height, pixels: stride(from: 0, to: pixels.count, by: 2).map { pixels[$0] }),
            let alpha = GrayImage(
                width: width, height: height, pixels: stride(from: 1, to: pixels.count, by: 2).map { pixels[$0] })
        else {
            throw PNGError(path: name, operation: .read, message: "libpng returned an image of the wrong size")
        }
        return (gray, alpha)
    }

    /// The pixels of the PNG at `path` in libpng's `format` of `channels` bytes per pixel:
    /// (height, width, channels) row-major. Alpha, if the format has none, is composited onto white.
    private static func read(_ path: String, format: png_uint_32, channels: Int) throws -> (
        width: Int, height: Int, pixels: [UInt8]
    ) {
        try FileIO.requireRegularFile(path)
        return try decode(name: path, format: format, channels: channels, maximumPixelCount: maximumPixelCount) {
            control in
            png_image_begin_read_from_file(&control, path)
        }
    }

    /// The pixels of the PNG that `begin` opens (a file or memory) in libpng's `format`, refusing
    /// more than `maximumPixelCount` pixels from the header; `name` stands for the source in errors.
    private static func decode(
        name: String, format: png_uint_32, channels: Int, maximumPixelCount: Int,
        begin: (inout png_image) -> Int32
    ) throws -> (width: Int, height: Int, pixels: [UInt8]) {
        var control = png_image()
        control.version = png_uint_32(PNG_IMAGE_VERSION)
        guard begin(&control) != 0, !failed(control) else {
            let message = messageText(of: control)
            png_image_free(&control)
            throw PNGError(path: name, operation: .read, message: message, hint: headerHint(for: message))
        }
        // libpng limits each dimension to 2³¹ − 1, so the product cannot overflow an Int.
        let width = Int(control.width)
        let height = Int(control.height)
        guard width * height <= maximumPixelCount else {
            png_image_free(&control)
            throw PNGError(
                path: name, operation: .read,
                message: "image is \(width)×\(height) = \(width * height) pixels, "
                    + "above the limit of \(maximumPixelCount)")
        }
        control.format = format
        var pixels = [UInt8](repeating: 255, count: width * height * channels)
        var white = png_color(red: 255, green: 255, blue: 255)
        let finished = pixels.withUnsafeMutableBytes { bytes in
            png_image_finish_read(&control, &white, bytes.baseAddress, png_int_32(width * channels), nil)
        }
        guard finished != 0, !failed(control) else {
            let message = messageText(of: control)
            png_image_free(&control)
            throw PNGError(
                path: name, operation: .read, message: message,
                hint: "the image data is incomplete or corrupt: the file is probably truncated")
        }
        return (width, height, pixels)
    }

    private static func validateForWriting(byteCount: Int, width: Int, height: Int, channels: Int, path: String) throws
    {
        func refuse(_ message: String) -> PNGError {
            PNGError(path: path, operation: .write, message: message)
        }
        guard width > 0, height > 0 else {
            throw refuse("a PNG needs at least one row and one column, got \(width)×\(height)")
        }
        guard width * height <= maximumPixelCount else {
            throw refuse("image is \(width)×\(height) pixels, above the limit of \(maximumPixelCount)")
        }
        let expectedByteCount = width * height * channels
        guard byteCount == expectedByteCount else {
            throw refuse(
                "pixel buffer holds \(byteCount) bytes; "
                    + "a \(width)×\(height) image of \(channels) channel\(channels == 1 ? "" : "s") needs \(expectedByteCount)"
            )
        }
    }

    /// PNG_IMAGE_FAILED, which does not import into Swift: the low two bits of
    /// `warning_or_error` are 2 (error) or 3 (error after a warning).
    private static func failed(_ control: png_image) -> Bool {
        control.warning_or_error & 0x03 > 1
    }

    /// The NUL-terminated `message` field, a `char[64]` imported as a tuple.
    private static func messageText(of control: png_image) -> String {
        let text = withUnsafeBytes(of: control.message) { bytes in
            String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
        }
        return text.isEmpty ? "libpng reported an unspecified error" : text
    }

    /// libpng says "Not a PNG file" for a wrong signature, which needs no hint, and only
    /// "Read Error" when the file ends inside the header.
    private static func headerHint(for message: String) -> String? {
        message == "Not a PNG file"
            ? nil : "the PNG header is incomplete or corrupt: the file is truncated, empty or not a PNG"
    }
}
