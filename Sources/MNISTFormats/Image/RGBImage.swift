/// One 8-bit sRGB colour.
public struct RGBColor: Equatable, Hashable, Sendable, CustomStringConvertible {
    public var red: UInt8
    public var green: UInt8
    public var blue: UInt8

    public init(red: UInt8, green: UInt8, blue: UInt8) {
        self.red = red
        self.green = green
        self.blue = blue
    }

    /// (255, 255, 255).
    public static let white = RGBColor(red: 255, green: 255, blue: 255)

    public var description: String { "(\(red), \(green), \(blue))" }
}

/// An 8-bit RGB image held in memory.
///
/// Invariant: `pixels.count == height * width * 3`. `pixels` is public and mutable, so
/// `PNGFile.write` re-checks the invariant and throws instead of writing a malformed image.
public struct RGBImage: Equatable, Sendable {
    /// Columns, at least 0.
    public let width: Int
    /// Rows, at least 0.
    public let height: Int
    /// (height, width, 3) row-major: the channels of pixel (x, y) are at
    /// `3 * (y * width + x)` + 0 (red), 1 (green), 2 (blue).
    public var pixels: [UInt8]

    /// An image of `width` × `height` pixels, every one `color` (white by default).
    ///
    /// `width` and `height` must be non-negative and `width * height * 3` must fit in an `Int`;
    /// callers derive them from validated sizes, so a violation is a programming error.
    public init(width: Int, height: Int, filledWith color: RGBColor = .white) {
        guard let count = Self.byteCount(width: width, height: height) else {
            preconditionFailure("an RGBImage needs a non-negative width and height whose byte count fits in an Int")
        }
        self.width = width
        self.height = height
        var row: [UInt8] = []
        row.reserveCapacity(width * 3)
        for _ in 0 ..< width {
            row.append(color.red)
            row.append(color.green)
            row.append(color.blue)
        }
        var pixels: [UInt8] = []
        pixels.reserveCapacity(count)
        for _ in 0 ..< height {
            pixels.append(contentsOf: row)
        }
        self.pixels = pixels
    }

    /// An image from raw (height, width, 3) row-major RGB bytes, or nil when `pixels.count`
    /// is not `height * width * 3` or a dimension is negative.
    public init?(width: Int, height: Int, pixels: [UInt8]) {
        guard let count = Self.byteCount(width: width, height: height), pixels.count == count else { return nil }
        self.width = width
        self.height = height
        self.pixels = pixels
    }

    /// The colour of the pixel in column `x`, row `y` (row 0 at the top).
    /// Both must lie inside the image, as with an array index.
    public subscript(x x: Int, y y: Int) -> RGBColor {
        get {
            let offset = byteOffset(x: x, y: y)
            return RGBColor(red: pixels[offset], green: pixels[offset + 1], blue: pixels[offset + 2])
        }
        set {
            let offset = byteOffset(x: x, y: y)
            pixels[offset] = newValue.red
            pixels[offset + 1] = newValue.green
            pixels[offset + 2] = newValue.blue
        }
    }

    /// `height * width * 3`, or nil for a negative dimension or an overflowing product.
    static func byteCount(width: Int, height: Int) -> Int? {
        guard width >= 0, height >= 0 else { return nil }
        let (pixelCount, pixelOverflow) = width.multipliedReportingOverflow(by: height)
        let (bytes, byteOverflow) = pixelCount.multipliedReportingOverflow(by: 3)
        return pixelOverflow || byteOverflow ? nil : bytes
    }

    private func byteOffset(x: Int, y: Int) -> Int {
        precondition(
            (0 ..< width).contains(x) && (0 ..< height).contains(y),
            "pixel (\(x), \(y)) is outside a \(width)×\(height) image")
        return 3 * (y * width + x)
    }
}
