import CLibPNG
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A PNG file that libpng could not read or write, naming the path, libpng's message and,
/// where one is useful, a hint about the likely cause.
public struct PNGError: Error, CustomStringConvertible, Equatable {
    public enum Operation: String, Equatable, Sendable {
        case read
        case write
    }

    /// The file named by the caller (never the temporary file of an atomic write).
    public let path: String
    public let operation: Operation
    /// libpng's message, or this module's own reason for refusing the image.
    public let message: String
    public let hint: String?

    public init(path: String, operation: Operation, message: String, hint: String? = nil) {
        self.path = path
        self.operation = operation
        self.message = message
        self.hint = hint
    }

    public var description: String {
        let base = "\(path): cannot \(operation.rawValue) PNG: \(message)"
        return hint.map { "\(base) (\($0))" } ?? base
    }
}

/// Reads and writes 8-bit RGB PNG files through libpng's simplified API
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
        try validateForWriting(image, path: path)
        try FileIO.writeAtomically(to: path) { temporaryPath in
            var control = png_image()
            control.version = png_uint_32(PNG_IMAGE_VERSION)
            control.width = png_uint_32(image.width)
            control.height = png_uint_32(image.height)
            control.format = png_uint_32(PNG_FORMAT_RGB)
            // Rows are contiguous: 3 bytes per pixel; fits in png_int_32 below the pixel cap.
            let rowStride = png_int_32(image.width * 3)
            let written = image.pixels.withUnsafeBytes { bytes in
                png_image_write_to_file(&control, temporaryPath, 0, bytes.baseAddress, rowStride, nil)
            }
            guard written != 0, !failed(control) else {
                let message = messageText(of: control)
                png_image_free(&control)
                throw PNGError(path: path, operation: .write, message: message,
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
        try FileIO.requireRegularFile(path)
        var control = png_image()
        control.version = png_uint_32(PNG_IMAGE_VERSION)
        guard png_image_begin_read_from_file(&control, path) != 0, !failed(control) else {
            let message = messageText(of: control)
            png_image_free(&control)
            throw PNGError(path: path, operation: .read, message: message, hint: headerHint(for: message))
        }
        // libpng limits each dimension to 2³¹ − 1, so the product cannot overflow an Int.
        let width = Int(control.width)
        let height = Int(control.height)
        guard width * height <= maximumPixelCount else {
            png_image_free(&control)
            throw PNGError(path: path, operation: .read,
                           message: "image is \(width)×\(height) = \(width * height) pixels, "
                               + "above the limit of \(maximumPixelCount)")
        }
        control.format = png_uint_32(PNG_FORMAT_RGB)
        // pixels: (height, width, 3) row-major.
        var pixels = [UInt8](repeating: 255, count: width * height * 3)
        var white = png_color(red: 255, green: 255, blue: 255)
        let finished = pixels.withUnsafeMutableBytes { bytes in
            png_image_finish_read(&control, &white, bytes.baseAddress, png_int_32(width * 3), nil)
        }
        guard finished != 0, !failed(control) else {
            let message = messageText(of: control)
            png_image_free(&control)
            throw PNGError(path: path, operation: .read, message: message,
                           hint: "the image data is incomplete or corrupt: the file is probably truncated")
        }
        guard let image = RGBImage(width: width, height: height, pixels: pixels) else {
            throw PNGError(path: path, operation: .read, message: "libpng returned an image of the wrong size")
        }
        return image
    }

    private static func validateForWriting(_ image: RGBImage, path: String) throws {
        func refuse(_ message: String) -> PNGError {
            PNGError(path: path, operation: .write, message: message)
        }
        guard image.width > 0, image.height > 0 else {
            throw refuse("a PNG needs at least one row and one column, got \(image.width)×\(image.height)")
        }
        guard image.width * image.height <= maximumPixelCount else {
            throw refuse("image is \(image.width)×\(image.height) pixels, above the limit of \(maximumPixelCount)")
        }
        let expectedByteCount = image.width * image.height * 3
        guard image.pixels.count == expectedByteCount else {
            throw refuse("pixel buffer holds \(image.pixels.count) bytes; "
                + "a \(image.width)×\(image.height) RGB image needs \(expectedByteCount)")
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
        message == "Not a PNG file" ? nil : "the PNG header is incomplete or corrupt: the file is truncated, empty or not a PNG"
    }
}
