/// An 8-bit greyscale image held in memory: one byte per pixel, 0 black … 255 white, or, for
/// digit images, 0 no ink … 255 full ink (MNIST's convention).
///
/// Invariant: `pixels.count == height * width`.
public struct GrayImage: Equatable, Sendable {
    /// Columns, at least 0.
    public let width: Int
    /// Rows, at least 0.
    public let height: Int
    /// (height, width) row-major: pixel (x, y) is at `y * width + x`.
    public var pixels: [UInt8]

    /// An image of `width` × `height` pixels, every one `value`.
    ///
    /// `width` and `height` must be non-negative and their product must fit in an `Int`;
    /// callers derive them from validated sizes, so a violation is a programming error.
    public init(width: Int, height: Int, filledWith value: UInt8 = 0) {
        precondition(
            width >= 0 && height >= 0 && !width.multipliedReportingOverflow(by: height).overflow,
            "a GrayImage needs a non-negative width and height whose product fits in an Int")
        self.width = width
        self.height = height
        pixels = [UInt8](repeating: value, count: width * height)
    }

    /// An image from raw (height, width) row-major bytes, or nil when `pixels.count` is not
    /// `height * width` or a dimension is negative.
    public init?(width: Int, height: Int, pixels: [UInt8]) {
        guard width >= 0, height >= 0 else { return nil }
        let (count, overflow) = width.multipliedReportingOverflow(by: height)
        guard !overflow, pixels.count == count else { return nil }
        self.width = width
        self.height = height
        self.pixels = pixels
    }

    /// The value of the pixel in column `x`, row `y` (row 0 at the top); both must lie inside.
    public subscript(x x: Int, y y: Int) -> UInt8 {
        get { pixels[offset(x: x, y: y)] }
        set { pixels[offset(x: x, y: y)] = newValue }
    }

    private func offset(x: Int, y: Int) -> Int {
        precondition(
            (0 ..< width).contains(x) && (0 ..< height).contains(y),
            "pixel (\(x), \(y)) is outside a \(width)×\(height) image")
        return y * width + x
    }
}
