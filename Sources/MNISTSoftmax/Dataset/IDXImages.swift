extension IDXArray {
    /// The number of images when this array holds images: 3 dimensions (count, rows, columns)
    /// of unsigned bytes; nil otherwise.
    public var imageCount: Int? {
        guard case .uint8 = elements, dimensions.count == 3 else { return nil }
        return dimensions[0]
    }

    /// Image `index` of an image array (unsigned bytes, dimensions (count, rows, columns)), as
    /// (rows, columns) pixels. `path` names the file in errors.
    ///
    /// Throws `DatasetError` when the array does not hold images or `index` is not in 0..<count.
    public func image(at index: Int, path: String) throws -> GrayImage {
        guard case .uint8(let pixels) = elements else {
            throw DatasetError(path: path, problem: .wrongElementType(found: elementType, expected: .uint8))
        }
        guard dimensions.count == 3 else {
            throw DatasetError(path: path, problem: .notAnImageFile(dimensions: dimensions))
        }
        let (count, rows, columns) = (dimensions[0], dimensions[1], dimensions[2])
        guard (0 ..< count).contains(index) else {
            throw DatasetError(path: path, problem: .imageIndexOutOfRange(index: index, count: count))
        }
        // pixels: (count, rows, columns) row-major; the product was checked when the file was read.
        let size = rows * columns
        return GrayImage(width: columns, height: rows, pixels: Array(pixels[index * size ..< (index + 1) * size]))!
    }
}
