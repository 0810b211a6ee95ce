/// Training stopped between two steps because the caller's `shouldStop` returned true (the
/// command line asks on SIGINT or SIGTERM). No model is returned: the weights of an unfinished
/// run are not a result.
public struct TrainingInterrupted: Error, CustomStringConvertible, Equatable {
    /// Where training was when it stopped.
    public enum Position: Equatable, Sendable {
        /// SGD: during epoch `epoch` (counted from 1), after `batchesCompleted` of its batches.
        case epoch(Int, batchesCompleted: Int)
        /// L-BFGS: after iteration `iteration` (counted from 1), before the next began.
        case iteration(Int)
    }

    public let position: Position

    public init(at position: Position) {
        self.position = position
    }

    /// "epoch 2, after 4 of its batches" or "L-BFGS iteration 3": where the run stopped, for
    /// messages.
    public var positionDescription: String {
        switch position {
        case .epoch(let epoch, let batches): "epoch \(epoch), after \(batches) of its batches"
        case .iteration(let iteration): "L-BFGS iteration \(iteration)"
        }
    }

    public var description: String {
        switch position {
        case .epoch: "training stopped on request during \(positionDescription)"
        case .iteration: "training stopped on request after \(positionDescription)"
        }
    }
}
