import ArgumentParser
import MNISTSoftmax

struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train the 784→10 softmax regression on the 60,000 training images.",
        discussion: """
            Minibatch SGD with momentum on the fused softmax–cross-entropy gradient p − y, with L2 \
            on the weights and a per-epoch learning-rate decay. Prints one line per epoch, then the \
            accuracy on the 10,000 test images, and saves the model atomically. While it runs, standard \
            error shows a live progress bar when it is a terminal and one plain line per epoch otherwise.
            """)

    private static let defaults = TrainingConfiguration()

    @OptionGroup var data: DataOptions
    @OptionGroup var modelPath: ModelPathOption
    @OptionGroup var progress: ProgressOptions

    @Option(help: "Passes over the training set.")
    var epochs: Int = defaults.epochs

    @Option(help: "Samples per gradient step.")
    var batchSize: Int = defaults.batchSize

    @Option(help: "Step size η of the first epoch.")
    var learningRate: Float = defaults.learningRate

    @Option(help: "Momentum μ, in [0, 1).")
    var momentum: Float = defaults.momentum

    @Option(help: "Factor applied to the learning rate after each epoch, in (0, 1].")
    var learningRateDecay: Float = defaults.learningRateDecay

    @Option(help: "L2 strength λ: the loss adds (λ/2)‖W‖² (the bias is not regularised).")
    var l2: Float = defaults.l2

    @Option(help: "Seed of the per-epoch shuffle; with the same --threads, the same seed gives bit-identical weights.")
    var seed: UInt64 = defaults.seed

    @Option(help: "Threads that share each batch, in fixed shards; the default is every core.")
    var threads: Int = defaults.threads

    @Option(help: ArgumentHelp("Hold out the last N training images for validation (0: none).", valueName: "n"))
    var validationSplit: Int = 0

    @Flag(help: "Print JSON Lines instead of the table: one object per epoch, then a summary.")
    var json = false

    @Option(help: ArgumentHelp("Also write the per-epoch metrics to this CSV file, for plotting.", valueName: "file"))
    var metricsCsv: String?

    func validate() throws {
        guard epochs >= 1 else { throw ValidationError("--epochs must be at least 1") }
        guard batchSize >= 1 else { throw ValidationError("--batch-size must be at least 1") }
        guard learningRate.isFinite && learningRate > 0 else { throw ValidationError("--learning-rate must be a positive number") }
        guard momentum >= 0 && momentum < 1 else { throw ValidationError("--momentum must be in [0, 1)") }
        guard learningRateDecay > 0 && learningRateDecay <= 1 else {
            throw ValidationError("--learning-rate-decay must be in (0, 1]")
        }
        guard l2.isFinite && l2 >= 0 else { throw ValidationError("--l2 must be zero or positive") }
        guard threads >= 1 && threads <= 256 else { throw ValidationError("--threads must be between 1 and 256") }
        guard validationSplit >= 0 else { throw ValidationError("--validation-split must be zero or positive") }
    }

    var trainingConfiguration: TrainingConfiguration {
        var configuration = TrainingConfiguration()
        configuration.epochs = epochs
        configuration.batchSize = batchSize
        configuration.learningRate = learningRate
        configuration.momentum = momentum
        configuration.learningRateDecay = learningRateDecay
        configuration.l2 = l2
        configuration.seed = seed
        configuration.threads = threads
        return configuration
    }

    func run() throws {
        for output in [modelPath.model] + (metricsCsv.map { [$0] } ?? []) {
            try FileIO.refuseDirectoryTarget(output)
        }
        let directory = data.directory
        progress.diagnostic("loading MNIST from \(directory.path)")
        let splits = try directory.load([.train, .test])
        let (allTraining, test) = (splits[0], splits[1])
        guard validationSplit < allTraining.count else {
            throw ValidationError("--validation-split \(validationSplit) leaves no training images (the set has \(allTraining.count))")
        }
        let trainingCount = allTraining.count - validationSplit
        let training = validationSplit == 0 ? allTraining : allTraining.slice(0 ..< trainingCount)
        let validation = validationSplit == 0 ? nil : allTraining.slice(trainingCount ..< allTraining.count)
        progress.diagnostic("training on \(training.count) images" + (validation.map { ", validating on \($0.count)" } ?? ""))

        let report = TrainingReport(json: json)
        report.begin()
        var epochSummaries: [EpochSummary] = []
        var lastBatch: BatchProgress?
        let liveProgress = TrainingProgress(style: progress.style, epochs: epochs)
        defer { liveProgress.finish() }
        let clock = ContinuousClock()
        let started = clock.now
        let model = try SoftmaxTrainer(configuration: trainingConfiguration).train(
            on: training, validation: validation,
            afterEpoch: { summary in
                epochSummaries.append(summary)
                liveProgress.epochFinished(summary, lastBatch: lastBatch)
                report.epoch(summary)
            },
            afterBatch: { batch in
                lastBatch = batch
                liveProgress.batchFinished(batch)
            })
        let trainingSeconds = (clock.now - started).seconds
        let evaluation = Evaluation(of: model, on: test)
        report.summary(evaluation, trainingSeconds: trainingSeconds, modelPath: modelPath.model)
        if let metricsCsv {
            try FileIO.writeAtomically(Array(TrainingReport.csv(epochSummaries).utf8), to: metricsCsv)
            progress.diagnostic("wrote metrics to \(metricsCsv)")
        }

        let digests = allTraining.contentDigests()
        var metadata: [String: String] = [
            "epochs": String(epochs), "batch_size": String(batchSize), "learning_rate": String(learningRate),
            "momentum": String(momentum), "learning_rate_decay": String(learningRateDecay), "l2": String(l2),
            "seed": String(seed), "threads": String(threads), "optimizer": "sgd-momentum", "loss": "softmax-ce",
            "training_samples": String(training.count), "validation_samples": String(validationSplit),
            "train_images_sha256": digests.images, "train_labels_sha256": digests.labels,
            "test_accuracy": String(evaluation.accuracy), "test_loss": String(evaluation.meanLoss),
        ]
        if let lastEpoch = epochSummaries.last {
            metadata["final_training_loss"] = String(lastEpoch.trainingLoss)
            metadata["final_training_accuracy"] = String(lastEpoch.trainingAccuracy)
            if let validation = lastEpoch.validation { metadata["final_validation_accuracy"] = String(validation.accuracy) }
        }
        try SafeTensorsFile.write(StoredModel(model: model, metadata: metadata), to: modelPath.model)
        progress.diagnostic("saved model to \(modelPath.model)")
    }
}
