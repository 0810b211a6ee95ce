/// SGD's whole state at the end of an epoch: enough to continue the run so that it ends with the
/// same weights, bit for bit, as a run that was never stopped.
///
/// The weights and the momentum velocity are stored; the shuffle order is not, because it is
/// rebuilt by replaying `epochsCompleted` seeded shuffles. `settings` records everything else
/// the continuation must share (seed, threads, batch size, schedule, cost, data digests, …);
/// `train --resume` refuses a checkpoint whose settings differ from its own.
///
/// On disk it is a safetensors file with the F32 tensors `weight` [10, 784], `bias` [10],
/// `velocity.weight` [10, 784] and `velocity.bias` [10], written atomically.
public struct TrainingCheckpoint: Equatable, Sendable {
    /// Epochs finished when it was taken.
    public var epochsCompleted: Int
    /// W and b after those epochs.
    public var model: SoftmaxModel
    /// The momentum velocity of W and of b, in the same shapes.
    public var velocity: SoftmaxModel
    /// Settings that the continuing run must match, by name.
    public var settings: [String: String]

    public init(epochsCompleted: Int, model: SoftmaxModel, velocity: SoftmaxModel, settings: [String: String] = [:]) {
        self.epochsCompleted = epochsCompleted
        self.model = model
        self.velocity = velocity
        self.settings = settings
    }

    /// Throws unless every setting of `current` equals the checkpoint's (`path` names the file).
    public func requireSettings(_ current: [String: String], path: String) throws {
        for key in current.keys.sorted() where settings[key] != current[key] {
            throw CheckpointMismatchError(
                path: path, problem: CheckpointMismatch(key: key, stored: settings[key], current: current[key]!))
        }
    }

    /// The name prefix of the velocity tensors that only a checkpoint holds.
    public static let velocityPrefix = SafeTensorsFile.velocityPrefix
    private static let kind = "training-checkpoint"

    /// The file's bytes.
    public func encoded() -> [UInt8] {
        var metadata = settings
        metadata["kind"] = Self.kind
        metadata["epochs_completed"] = String(epochsCompleted)
        let weightShape = SafeTensorsFile.modelTensorShapes["weight"]!,
            biasShape = SafeTensorsFile.modelTensorShapes["bias"]!
        return SafeTensorsFile.encode(
            tensors: [
                ("weight", weightShape, model.weights), ("bias", biasShape, model.bias),
                (Self.velocityPrefix + "weight", weightShape, velocity.weights),
                (Self.velocityPrefix + "bias", biasShape, velocity.bias),
            ],
            metadata: metadata)
    }

    /// Writes the checkpoint to `path` atomically (temporary file, fsync, rename).
    public func write(to path: String) throws {
        try FileIO.writeAtomically(encoded(), to: path)
    }

    /// Reads and validates a checkpoint file, with the checks of a model file.
    public static func read(_ path: String) throws -> TrainingCheckpoint {
        var shapes = SafeTensorsFile.modelTensorShapes
        for (name, shape) in SafeTensorsFile.modelTensorShapes { shapes[velocityPrefix + name] = shape }
        let (tensors, metadata) = try SafeTensorsFile.decode(
            FileIO.readAll(path), path: path, expecting: shapes,
            allowedMetadata: StoredModel.interpretedMetadata)
        guard let epochs = metadata["epochs_completed"].flatMap(Int.init), epochs >= 1 else {
            throw ModelFileError(
                path: path,
                problem: .invalidEntry(
                    name: "__metadata__",
                    reason: "\"epochs_completed\" is missing or not a positive whole number"))
        }
        var settings = metadata
        for key in ["kind", "epochs_completed", "format", "format_version"] { settings[key] = nil }
        return TrainingCheckpoint(
            epochsCompleted: epochs,
            model: SoftmaxModel(weights: tensors["weight"]!, bias: tensors["bias"]!),
            velocity: SoftmaxModel(
                weights: tensors[velocityPrefix + "weight"]!, bias: tensors[velocityPrefix + "bias"]!),
            settings: settings)
    }
}

/// A checkpoint taken under other settings than the run asked to continue it.
public typealias CheckpointMismatchError = LocatedError<CheckpointMismatch>

/// The first setting in which a checkpoint and the run asked to continue it differ.
public struct CheckpointMismatch: FileProblem {
    public let key: String
    /// The checkpoint's value; nil when it does not record the setting.
    public let stored: String?
    public let current: String

    public var message: String {
        "the checkpoint was taken with \(key) = \(stored ?? "(not recorded)"), this run has \(current)"
    }

    public var hint: String? {
        "resume with the settings of the run that wrote it; only the number of epochs may grow (unless the schedule is cosine)"
    }
}

extension LocatedError where P == CheckpointMismatch {
    public var key: String { problem.key }
    public var stored: String? { problem.stored }
    public var current: String { problem.current }
}
