/// When and where SGD saves its state during a run.
public struct CheckpointPolicy {
    /// Save after every `interval`-th epoch.
    public let interval: Int
    /// Receives each checkpoint; writing it is up to the caller.
    public let save: (TrainingCheckpoint) throws -> Void

    public init(every interval: Int, save: @escaping (TrainingCheckpoint) throws -> Void) {
        precondition(interval >= 1, "a checkpoint interval is at least one epoch")
        self.interval = interval
        self.save = save
    }
}
