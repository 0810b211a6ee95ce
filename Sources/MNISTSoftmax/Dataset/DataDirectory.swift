import Dispatch
import FoundationEssentials
import Synchronization

/// One of the four MNIST files, with the SHA-256 of its decompressed IDX content.
public struct MNISTFile: Sendable, Equatable {
    public let name: String
    public let sha256: String

    public static let trainImages = MNISTFile(
        name: "train-images-idx3-ubyte",
        sha256: "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db")
    public static let trainLabels = MNISTFile(
        name: "train-labels-idx1-ubyte",
        sha256: "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5")
    public static let testImages = MNISTFile(
        name: "t10k-images-idx3-ubyte",
        sha256: "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7")
    public static let testLabels = MNISTFile(
        name: "t10k-labels-idx1-ubyte",
        sha256: "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2")

    public static let all = [trainImages, trainLabels, testImages, testLabels]
}

/// The two splits of MNIST (and of Fashion-MNIST, which uses the same file names).
public enum MNISTSplit: String, CaseIterable, Sendable {
    case train
    case test

    public var imagesFile: MNISTFile { self == .train ? .trainImages : .testImages }
    public var labelsFile: MNISTFile { self == .train ? .trainLabels : .testLabels }
}

/// A folder holding the MNIST files, each raw or gzip-compressed.
///
/// Chosen by `--data-dir`, else the environment variable `MNIST_DATA_DIR`, else `./data/mnist`.
public struct DataDirectory: Sendable {
    public static let environmentVariable = "MNIST_DATA_DIR"
    public static let defaultPath = "data/mnist"

    public let path: String

    public init(path: String) { self.path = path }

    /// `explicitPath` if given, else `$MNIST_DATA_DIR`, else `data/mnist`.
    public static func resolve(
        explicitPath: String?,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) -> DataDirectory {
        DataDirectory(path: explicitPath ?? environment[environmentVariable] ?? defaultPath)
    }

    /// The path of `file` here: the raw name if it exists, else the name with `.gz`.
    public func location(of file: MNISTFile) throws -> String {
        for candidate in [file.name, file.name + ".gz"] {
            let candidatePath = PathName.joining(path, candidate)
            if FileManager.default.fileExists(atPath: candidatePath) { return candidatePath }
        }
        throw DatasetError(path: path, problem: .missingFile(name: file.name, directory: path))
    }

    /// Throws unless every file of `splits` is here, raw or gzip, naming the first one missing
    /// (in the order given, images before labels): a check for before a long step that reads some
    /// of them only at its end.
    public func requireFiles(of splits: [MNISTSplit]) throws {
        for split in splits {
            _ = try location(of: split.imagesFile)
            _ = try location(of: split.labelsFile)
        }
    }

    /// Loads several splits at once, one thread each (decompression dominates), in the order given.
    /// Throws the first split's error, in that order, if any fails.
    public func load(_ splits: [MNISTSplit]) throws -> [LabeledImages] {
        let results = ConcurrentResults<LabeledImages>(count: splits.count)
        DispatchQueue.concurrentPerform(iterations: splits.count) { index in
            results.set(index, Result { try load(splits[index]) })
        }
        return try results.values.map { try $0.get() }
    }

    /// Loads one split and checks that its images are 28×28.
    public func load(_ split: MNISTSplit) throws -> LabeledImages {
        let imagesPath = try location(of: split.imagesFile)
        let data = try LabeledImages.load(imagesAt: imagesPath, labelsAt: location(of: split.labelsFile))
        try data.requireModelInputSize(source: imagesPath)
        return data
    }
}

/// One result slot per concurrent task; each task writes only its own slot.
private final class ConcurrentResults<Value>: @unchecked Sendable {
    private var slots: [Result<Value, Error>?]
    /// Guards `slots`.
    private let lock = Mutex(())

    init(count: Int) { slots = Array(repeating: nil, count: count) }

    func set(_ index: Int, _ result: Result<Value, Error>) {
        lock.withLock { _ in slots[index] = result }
    }

    /// Every slot, once all tasks have finished.
    var values: [Result<Value, Error>] { lock.withLock { _ in slots.map { $0! } } }
}
