/// A dataset that cannot be used, naming the file (or, for a missing file, the data directory)
/// and what was expected.
public typealias DatasetError = LocatedError<DatasetProblem>

/// Why a dataset cannot be used.
public enum DatasetProblem: FileProblem {
    case wrongElementType(found: IDXElementType, expected: IDXElementType)
    case notAnImageFile(dimensions: [Int])
    case notALabelFile(dimensions: [Int])
    case labelOutOfRange(label: Int, index: Int)
    case countMismatch(images: Int, labels: Int, imagesPath: String)
    case wrongImageSize(rows: Int, columns: Int)
    case missingFile(name: String, directory: String)
    case emptyDataset
    case imageIndexOutOfRange(index: Int, count: Int)

    public var message: String {
        switch self {
        case .wrongElementType(let found, let expected):
            return
                "holds \(found.name) elements; expected \(expected.name) (\(expected.rawValue.hexLiteral(digits: 2)))"
        case .notAnImageFile(let dimensions):
            return "has dimensions \(dimensions); an image file has 3 (count, rows, columns)"
        case .notALabelFile(let dimensions):
            return "has dimensions \(dimensions); a label file has 1 (count)"
        case .labelOutOfRange(let label, let index):
            return "label \(label) at index \(index) is outside 0…\(LabeledImages.classCount - 1)"
        case .countMismatch(let images, let labels, let imagesPath):
            return "has \(labels) labels but \(imagesPath) has \(images) images"
        case .wrongImageSize(let rows, let columns):
            // An empty image file may declare any two dimensions up to 2³² − 1: their product
            // can overflow, and is then left out.
            let (pixels, overflow) = rows.multipliedReportingOverflow(by: columns)
            return
                "images are \(rows)×\(columns)\(overflow ? "" : " = \(pixels)") pixels; the model needs 28×28 = \(LabeledImages.mnistPixelCount) inputs"
        case .missingFile(let name, _):
            return "no \(name) or \(name).gz in the data directory"
        case .emptyDataset:
            return "holds no images"
        case .imageIndexOutOfRange(let index, let count):
            return count == 0
                ? "holds no images, so there is no image \(index)"
                : "has no image \(index); its images are numbered 0…\(count - 1)"
        }
    }

    public var hint: String? {
        switch self {
        case .notAnImageFile: "is this a label file? Image files are named *-images-idx3-ubyte"
        case .notALabelFile: "is this an image file? Label files are named *-labels-idx1-ubyte"
        case .countMismatch: "pair the images and labels of the same split (train with train, t10k with t10k)"
        case .missingFile: "download and verify MNIST into this directory"
        default: nil
        }
    }
}

/// Labelled images, kept as bytes: pixels `(count, rows, columns)` row-major UInt8, labels
/// `(count)` in 0…9. Conversion to Float happens in the kernels, where the pixels are used.
public struct LabeledImages: Sendable {
    /// The digits 0…9: every label is below this.
    public static let classCount = 10
    /// 28 × 28, the pixels of an MNIST image.
    public static let mnistPixelCount = 784

    /// (count, rows, columns) row-major.
    public let pixels: [UInt8]
    /// (count), each in 0..<LabeledImages.classCount.
    public let labels: [UInt8]
    public let rows: Int
    public let columns: Int

    /// The SHA-256 digests of the files these came from, when `load` read them (it hashes the
    /// content while decompressing it); nil for images made or changed in memory.
    private(set) var loadedContentDigests: (images: String, labels: String)?

    public var count: Int { labels.count }
    public var pixelsPerImage: Int { rows * columns }

    /// Checks the shapes and label range; `source` names the data in errors.
    public init(pixels: [UInt8], labels: [UInt8], rows: Int, columns: Int, source: String = "dataset") throws {
        // An empty image file may declare any two dimensions up to 2³² − 1; refusing a product
        // that overflows keeps `pixelsPerImage` safe to compute.
        let (pixelsPerImage, overflow) = rows.multipliedReportingOverflow(by: columns)
        guard rows >= 0 && columns >= 0 && !overflow else {
            throw DatasetError(path: source, problem: .wrongImageSize(rows: rows, columns: columns))
        }
        let (expectedPixels, countOverflow) = labels.count.multipliedReportingOverflow(by: pixelsPerImage)
        guard !countOverflow && pixels.count == expectedPixels else {
            throw DatasetError(
                path: source,
                problem: .countMismatch(
                    images: pixelsPerImage == 0 ? 0 : pixels.count / pixelsPerImage,
                    labels: labels.count, imagesPath: source))
        }
        if let index = labels.firstIndex(where: { Int($0) >= Self.classCount }) {
            throw DatasetError(path: source, problem: .labelOutOfRange(label: Int(labels[index]), index: index))
        }
        self.pixels = pixels
        self.labels = labels
        self.rows = rows
        self.columns = columns
    }

    /// Loads an image file (3-D, unsigned bytes) and its label file (1-D, unsigned bytes, 0…9),
    /// raw or gzip, and checks that they pair up.
    public static func load(imagesAt imagesPath: String, labelsAt labelsPath: String) throws -> LabeledImages {
        let (images, imagesDigest) = try IDXArray.readWithContentDigest(contentsOf: imagesPath)
        guard case .uint8(let pixels) = images.elements else {
            throw DatasetError(
                path: imagesPath, problem: .wrongElementType(found: images.elementType, expected: .uint8))
        }
        guard images.dimensions.count == 3 else {
            throw DatasetError(path: imagesPath, problem: .notAnImageFile(dimensions: images.dimensions))
        }
        let (labelFile, labelsDigest) = try IDXArray.readWithContentDigest(contentsOf: labelsPath)
        guard case .uint8(let labels) = labelFile.elements else {
            throw DatasetError(
                path: labelsPath, problem: .wrongElementType(found: labelFile.elementType, expected: .uint8))
        }
        guard labelFile.dimensions.count == 1 else {
            throw DatasetError(path: labelsPath, problem: .notALabelFile(dimensions: labelFile.dimensions))
        }
        guard images.dimensions[0] == labels.count else {
            throw DatasetError(
                path: labelsPath,
                problem: .countMismatch(
                    images: images.dimensions[0], labels: labels.count,
                    imagesPath: imagesPath))
        }
        let (rows, columns) = (images.dimensions[1], images.dimensions[2])
        guard !rows.multipliedReportingOverflow(by: columns).overflow else {
            throw DatasetError(path: imagesPath, problem: .wrongImageSize(rows: rows, columns: columns))
        }
        var loaded = try LabeledImages(pixels: pixels, labels: labels, rows: rows, columns: columns, source: labelsPath)
        loaded.loadedContentDigests = (imagesDigest, labelsDigest)
        return loaded
    }

    /// Throws unless the images are 28×28, the input size of `SoftmaxModel`.
    public func requireModelInputSize(source: String) throws {
        guard rows == 28 && columns == 28 else {
            throw DatasetError(path: source, problem: .wrongImageSize(rows: rows, columns: columns))
        }
        guard count > 0 else { throw DatasetError(path: source, problem: .emptyDataset) }
    }

    /// The images `range`, in order.
    public func slice(_ range: Range<Int>) -> LabeledImages {
        // Shapes and labels were validated for the whole set, so every slice is valid too.
        try! LabeledImages(
            pixels: Array(pixels[range.lowerBound * pixelsPerImage ..< range.upperBound * pixelsPerImage]),
            labels: Array(labels[range]), rows: rows, columns: columns)
    }

    /// SHA-256 of the IDX content (header and payload, decompressed) of the images and the labels,
    /// as lowercase hex: the digests MNIST's publishers list for its files. Those `load` computed
    /// while reading the files, else computed now.
    public func contentDigests() -> (images: String, labels: String) {
        if let loadedContentDigests { return loadedContentDigests }
        func digest(dimensions: [Int], payload: [UInt8]) -> String {
            let hasher = SHA256()
            var header: [UInt8] = [0, 0, IDXElementType.uint8.rawValue, UInt8(dimensions.count)]
            for dimension in dimensions { header.appendBigEndian(UInt32(dimension)) }
            hasher.update(data: header)
            hasher.update(data: payload)
            return hasher.finalizeHex()
        }
        return (
            digest(dimensions: [count, rows, columns], payload: pixels), digest(dimensions: [count], payload: labels)
        )
    }
}
