/// How a training run ended.
public struct TrainingOutcome: Sendable {
    /// The weights returned: the last ones, or with early stopping the best ones.
    public let model: SoftmaxModel
    /// Epochs (or L-BFGS iterations) run.
    public let epochsRun: Int
    /// With early stopping, the epoch whose weights are kept.
    public let bestEpoch: Int?
    /// Why training ended before its epoch or iteration limit, in words; nil when it ran to it.
    public let stoppedBecause: String?
    /// The configuration, the images trained on, every epoch's summary and the above: what a model
    /// file records (`StoredModel(_:test:)`).
    public let provenance: TrainingProvenance
}
