/// Where a trained model came from: the configuration, the data it was trained on, and what
/// training gave. A model file records it as metadata (`metadata`, written by
/// `StoredModel(_:test:)` and `StoredModel(model:provenance:)`), and a checkpoint records the part
/// that decides the weights (`checkpointSettings`), both under the keys of `ModelMetadataKey`.
public struct TrainingProvenance: Sendable {
    private typealias Key = ModelMetadataKey

    /// SHA-256 of the IDX content of training images and labels, as lowercase hex.
    public typealias Digests = (images: String, labels: String)

    public var configuration: TrainingConfiguration
    /// The preparation every image got before training, and every use of the model must repeat.
    public var preprocessing: Preprocessing
    /// Images trained on, and images held out for validation.
    public var trainingSamples: Int
    public var validationSamples: Int
    /// Every epoch's (or L-BFGS iteration's) summary, in order; empty before training.
    public var epochs: [EpochSummary] = []
    /// Epochs (or L-BFGS iterations) run; 0 before training.
    public var epochsRun = 0
    /// With early stopping, the epoch whose weights are kept.
    public var bestEpoch: Int?
    /// Why training ended before its limit, in words.
    public var stoppedBecause: String?
    /// The model's evaluation on the test set, when there is one.
    public var test: Evaluation?
    /// Where `trainingDigests` come from.
    private enum DigestSource {
        case given(Digests)
        /// Computed from these images when asked for.
        case images(LabeledImages)
    }

    private var digestSource: DigestSource

    /// Before training: the configuration and the data, identified by `trainingDigests` (for the
    /// command line, the digests of the whole training file, before preprocessing and the
    /// validation split).
    public init(
        configuration: TrainingConfiguration, preprocessing: Preprocessing = .none, trainingSamples: Int,
        validationSamples: Int = 0, trainingDigests: Digests
    ) {
        self.configuration = configuration
        self.preprocessing = preprocessing
        self.trainingSamples = trainingSamples
        self.validationSamples = validationSamples
        digestSource = .given(trainingDigests)
    }

    /// What `SoftmaxTrainer` knows: the configuration and the images it trained on. Images read
    /// from files bring the digests `load` computed, and are not kept; the digests of images made
    /// or changed in memory are computed only when asked for (SHA-256 of 47 MB is not free), so
    /// until then, or until `trainingDigests` is set, the provenance keeps those images alive.
    init(configuration: TrainingConfiguration, trainedOn data: LabeledImages, validationSamples: Int) {
        self.configuration = configuration
        preprocessing = .none
        trainingSamples = data.count
        self.validationSamples = validationSamples
        digestSource = data.loadedContentDigests.map { .given($0) } ?? .images(data)
    }

    /// SHA-256 of the training images and labels: as given, or those of the images trained on.
    public var trainingDigests: Digests {
        get {
            switch digestSource {
            case .given(let digests): digests
            case .images(let images): images.contentDigests()
            }
        }
        set { digestSource = .given(newValue) }
    }

    /// What a checkpoint must share with the run that continues it: everything that changes the
    /// weights, except the number of epochs (unless the cosine schedule depends on it). Not the
    /// thread count: the weights are the same for every count.
    public var checkpointSettings: [String: String] {
        var settings = sharedSettings
        for (key, value) in sgdSettings { settings[key.rawValue] = value }
        switch configuration.schedule {
        case .step: settings[Key.learningRateDecay.rawValue] = String(configuration.learningRateDecay)
        case .cosine: settings[Key.epochs.rawValue] = String(configuration.epochs)
        case .constant: break
        }
        return settings
    }

    /// The model file's metadata: every setting, the data digests, the final metrics and the
    /// history (`TrainingHistory`).
    public var metadata: [String: String] {
        var metadata = sharedSettings
        metadata[Key.optimizer.rawValue] = configuration.optimizer.rawValue
        metadata[Key.threads.rawValue] = String(configuration.threadLimit)
        metadata[Key.trainingSamples.rawValue] = String(trainingSamples)
        let unit: TrainingHistory.Unit
        switch configuration.optimizer {
        case .sgd:
            unit = .epoch
            metadata[Key.epochsRun.rawValue] = String(epochsRun)
            metadata[Key.epochs.rawValue] = String(configuration.epochs)
            for (key, value) in sgdSettings { metadata[key.rawValue] = value }
            if configuration.schedule == .step {
                metadata[Key.learningRateDecay.rawValue] = String(configuration.learningRateDecay)
            }
        case .lbfgs:
            unit = .iteration
            metadata[Key.iterations.rawValue] = String(epochsRun)
            metadata[Key.maxIterations.rawValue] = String(configuration.maxIterations)
        }
        if let test {
            metadata[Key.testAccuracy.rawValue] = String(test.accuracy)
            metadata[Key.testLoss.rawValue] = String(test.meanLoss)
        }
        if let patience = configuration.patience { metadata[Key.patience.rawValue] = String(patience) }
        if let bestEpoch { metadata[Key.bestEpoch.rawValue] = String(bestEpoch) }
        if let stoppedBecause { metadata[Key.stoppedBecause.rawValue] = stoppedBecause }
        if let last = epochs.last {
            metadata[Key.finalTrainingLoss.rawValue] = String(last.trainingLoss)
            metadata[Key.finalTrainingAccuracy.rawValue] = String(last.trainingAccuracy)
            if let validation = last.validation {
                metadata[Key.finalValidationAccuracy.rawValue] = String(validation.accuracy)
            }
        }
        metadata[Key.history.rawValue] = TrainingHistory(epochs, unit: unit).metadataValue
        return metadata
    }

    /// The settings both the model file and a checkpoint record: the cost, λ, the data and its
    /// preparation.
    private var sharedSettings: [String: String] {
        let digests = trainingDigests
        return [
            Key.loss.rawValue: configuration.lossFunction.rawValue, Key.l2.rawValue: String(configuration.l2),
            Key.preprocessing.rawValue: preprocessing.rawValue,
            Key.validationSamples.rawValue: String(validationSamples),
            Key.trainingImagesSHA256.rawValue: digests.images, Key.trainingLabelsSHA256.rawValue: digests.labels,
        ]
    }

    /// SGD's settings that both record, but for the epochs and the decay, which depend on the schedule.
    private var sgdSettings: [Key: String] {
        [
            .seed: String(configuration.seed), .batchSize: String(configuration.batchSize),
            .learningRate: String(configuration.learningRate), .momentum: String(configuration.momentum),
            .nesterov: String(configuration.nesterov), .schedule: configuration.schedule.rawValue,
        ]
    }
}

extension StoredModel {
    /// `model` with `provenance` as its metadata.
    public init(model: SoftmaxModel, provenance: TrainingProvenance) {
        self.init(model: model, metadata: provenance.metadata)
    }

    /// The model a training run returned, with its provenance as metadata, and `test`'s accuracy
    /// and loss when given.
    public init(_ outcome: TrainingOutcome, test: Evaluation? = nil) {
        var provenance = outcome.provenance
        provenance.test = test ?? provenance.test
        self.init(model: outcome.model, provenance: provenance)
    }
}
