import MNISTFormats

/// A model and the string metadata stored with it.
public struct StoredModel: Equatable, Sendable {
    public var model: SoftmaxModel
    /// The safetensors `__metadata__` map (empty when the file has none).
    public var metadata: [String: String]

    public init(model: SoftmaxModel, metadata: [String: String] = [:]) {
        self.model = model
        self.metadata = metadata
    }

    /// The preprocessing the model was trained with (metadata `preprocessing`; `none` when
    /// absent), which every use of the model must apply to its images.
    public var preprocessing: Preprocessing {
        metadata[Self.preprocessingKey].flatMap(Preprocessing.init(rawValue:)) ?? .none
    }

    /// The cost the model was trained with (metadata `loss`; the softmax cross-entropy when absent).
    public var lossFunction: LossFunction {
        metadata[Self.lossKey].flatMap(LossFunction.init(rawValue:)) ?? .softmaxCrossEntropy
    }

    /// The metadata keys that change how a model is used, and the values each may take. Reading
    /// a file refuses any other value, so that no model is used with the wrong preparation.
    public static let preprocessingKey = ModelMetadataKey.preprocessing.rawValue
    public static let lossKey = ModelMetadataKey.loss.rawValue
    static let interpretedMetadata: [String: [String]] = [
        preprocessingKey: Preprocessing.allCases.map(\.rawValue),
        lossKey: LossFunction.allCases.map(\.rawValue),
    ]
}

/// The model side of the model file: `SafeTensorsFile` (in MNISTFormats) is the container.
extension SafeTensorsFile {
    /// The tensors of a model file, by name.
    static let modelTensorShapes: [String: [Int]] = [
        "weight": [SoftmaxModel.classCount, SoftmaxModel.featureCount],
        "bias": [SoftmaxModel.classCount],
    ]

    /// The file's bytes for `stored`; `format` and `format_version` are added to its metadata.
    public static func encode(_ stored: StoredModel) -> [UInt8] {
        encode(
            tensors: [
                ("weight", modelTensorShapes["weight"]!, stored.model.weights),
                ("bias", modelTensorShapes["bias"]!, stored.model.bias),
            ],
            metadata: stored.metadata)
    }

    /// Writes `stored` to `path` atomically: a failed write leaves any earlier file untouched.
    public static func write(_ stored: StoredModel, to path: String) throws {
        try FileIO.writeAtomically(encode(stored), to: path)
    }

    /// Reads and validates a model file.
    public static func read(_ path: String) throws -> StoredModel {
        try decode(FileIO.readAll(path), path: path)
    }

    /// Validates and decodes safetensors bytes: header length cap, JSON, exactly the tensors
    /// `weight` and `bias` in either order, dtype F32, shapes, contiguous offsets, the exact file
    /// length, finite values, and the format version.
    public static func decode(_ bytes: [UInt8], path: String) throws -> StoredModel {
        let (tensors, metadata) = try decode(
            bytes, path: path, expecting: modelTensorShapes, allowedMetadata: StoredModel.interpretedMetadata)
        return StoredModel(model: SoftmaxModel(weights: tensors["weight"]!, bias: tensors["bias"]!), metadata: metadata)
    }
}
