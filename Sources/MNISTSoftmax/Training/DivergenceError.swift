/// A training run that produced a non-finite loss: the step size is too large.
public struct DivergenceError: SummarizableError, CustomStringConvertible {
    public let epoch: Int
    public let batch: Int
    public let learningRate: Float

    /// Where it diverged and at which learning rate, without the hint.
    public var summary: String {
        "training diverged at epoch \(epoch), batch \(batch): the loss is not finite (learning rate \(learningRate))"
    }

    public var hint: String { "try a smaller learning rate, such as \(learningRate / 10)" }

    public var description: String { "\(summary)\nHINT: \(hint)" }
}
