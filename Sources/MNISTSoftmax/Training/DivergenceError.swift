/// A training run that produced a non-finite loss: the step size is too large.
public struct DivergenceError: Error, CustomStringConvertible {
    public let epoch: Int
    public let batch: Int
    public let learningRate: Float

    public var description: String {
        "training diverged at epoch \(epoch), batch \(batch): the loss is not finite (learning rate \(learningRate))\nHINT: try a smaller learning rate, such as \(learningRate / 10)"
    }
}
