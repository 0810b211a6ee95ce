/// Training stopped between two batches because the caller's `shouldStop` returned true (the
/// command line asks on SIGINT or SIGTERM). No model is returned: the weights of an unfinished
/// run are not a result.
public struct TrainingInterrupted: Error, CustomStringConvertible, Equatable {
    /// The epoch that was running, counted from 1.
    public let epoch: Int
    /// Batches of that epoch finished before the stop.
    public let batchesCompleted: Int

    public init(epoch: Int, batchesCompleted: Int) {
        self.epoch = epoch
        self.batchesCompleted = batchesCompleted
    }

    public var description: String {
        "training stopped on request during epoch \(epoch), after \(batchesCompleted) of its batches"
    }
}
