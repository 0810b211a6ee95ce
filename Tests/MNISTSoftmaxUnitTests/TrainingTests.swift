import MNISTSoftmax
import MNISTSoftmaxTestSupport
import RealModule
import Testing

func blockTaskConfiguration(seed: UInt64) -> TrainingConfiguration {
    var configuration = TrainingConfiguration()
    configuration.epochs = 5
    configuration.batchSize = 32  // 300 = 9 × 32 + 12: the last batch is partial
    // Small enough that the loss still falls clearly in every epoch (measured: ≈1.7, 0.29, 0.049,
    // 0.021, 0.015). At η = 0.1 the task is solved within one epoch and the objective then
    // wanders at the 0.003 level, where the L2 term and momentum noise dominate.
    configuration.learningRate = 0.02
    configuration.momentum = 0.9
    configuration.learningRateDecay = 0.8
    configuration.l2 = 1e-4
    configuration.seed = seed
    return configuration
}

@Suite("Training")
struct TrainingTests {
    static let blocks = try! blockDataset(count: 300, seed: 2024)

    @Test func sameSeedGivesBitIdenticalWeightsAndDifferentSeedDoesNot() throws {
        let first = try SoftmaxTrainer(configuration: blockTaskConfiguration(seed: 7)).train(on: Self.blocks)
        let second = try SoftmaxTrainer(configuration: blockTaskConfiguration(seed: 7)).train(on: Self.blocks)
        let other = try SoftmaxTrainer(configuration: blockTaskConfiguration(seed: 8)).train(on: Self.blocks)

        // Not vacuous: training moved the weights away from the zero model.
        #expect(first.weights.contains { $0 != 0 } && first.bias.contains { $0 != 0 })
        #expect(
            first.weights == second.weights,
            "same seed: \(zip(first.weights, second.weights).filter { $0 != $1 }.count) weights differ")
        #expect(first.bias == second.bias)
        let differing = zip(first.weights, other.weights).filter { $0 != $1 }.count
        #expect(differing > 1000, "a different seed changed only \(differing) of 7840 weights")
        print(
            "[determinism] seed 7 vs 8: \(differing) of 7840 weights differ, max relative difference \(maxRelativeError(first.weights, other.weights))"
        )
    }

    /// Every sum has a fixed shape (column shards, samples in order), so the result is the same
    /// bit for bit however the threads are scheduled and whichever thread takes which task, and
    /// the same as on one thread. Batches of 32 split unevenly into the groups of 16 of the cost
    /// step. 1 and 2 threads are the kernels' two paths (more are capped at 2: ThreadCountTests).
    @Test(arguments: [1, 2])
    func sameSeedAndThreadCountGiveBitIdenticalWeights(threads: Int) throws {
        var configuration = blockTaskConfiguration(seed: 11)
        configuration.threads = threads
        let runs = try (0 ..< 3).map { _ in try SoftmaxTrainer(configuration: configuration).train(on: Self.blocks) }
        #expect(runs[0].weights.contains { $0 != 0 })
        for run in runs.dropFirst() {
            #expect(
                run.weights == runs[0].weights && run.bias == runs[0].bias,
                "\(threads) threads: \(zip(run.weights, runs[0].weights).filter { $0 != $1 }.count) weights differ")
        }
        var single = configuration
        single.threads = 1
        let reference = try SoftmaxTrainer(configuration: single).train(on: Self.blocks)
        #expect(
            runs[0].weights == reference.weights && runs[0].bias == reference.bias,
            "\(threads) threads against 1: \(zip(runs[0].weights, reference.weights).filter { $0 != $1 }.count) weights differ"
        )
    }

    @Test func trainingLearnsTheSeparableBlockTask() throws {
        var summaries: [EpochSummary] = []
        let validation = try blockDataset(count: 100, seed: 99)
        let model = try SoftmaxTrainer(configuration: blockTaskConfiguration(seed: 1))
            .train(on: Self.blocks, validation: validation) { summaries.append($0) }

        #expect(summaries.map(\.epochOrIteration) == [1, 2, 3, 4, 5])
        let losses = summaries.map(\.trainingLoss)
        print(
            "[training] losses \(losses), accuracies \(summaries.map(\.trainingAccuracy)), validation \(summaries.map { $0.validation?.accuracy ?? -1 })"
        )
        // The first batch sees the zero model, whose loss is log 10; everything after is lower.
        #expect(losses[0] < Double.log(10) && losses[0] > 0.1, "epoch 1 loss \(losses[0])")
        for e in 1 ..< losses.count {
            #expect(losses[e] < losses[e - 1], "loss rose from epoch \(e) to \(e + 1): \(losses)")
        }
        #expect(summaries.last!.trainingAccuracy >= 0.99, "\(summaries.map(\.trainingAccuracy))")
        #expect(summaries.allSatisfy { $0.trainingLoss.isFinite && $0.validation?.count == 100 })

        let trained = Evaluation(of: model, on: Self.blocks)
        #expect(trained.accuracy >= 0.99, "training accuracy of the final model \(trained.accuracy)")
        #expect(trained.meanLoss < 0.2, "final mean loss \(trained.meanLoss)")
        let held = Evaluation(of: model, on: validation)
        #expect(held.accuracy >= 0.98, "validation accuracy \(held.accuracy)")
        #expect(summaries.last!.validation == held, "the last epoch's validation is the returned model's")
    }

    /// One batch holding the whole set and μ = 0 make the first step plain gradient descent
    /// from W = 0: W₁ = −η ∇L(0). The second step adds momentum: v₂ = μ v₁ − η₂ ∇L(W₁).
    @Test func firstTwoStepsFollowTheMomentumUpdate() throws {
        let data = Self.blocks.slice(0 ..< 50)
        var configuration = blockTaskConfiguration(seed: 3)
        configuration.batchSize = 50
        configuration.epochs = 1
        configuration.momentum = 0.5
        configuration.learningRate = 0.2
        configuration.l2 = 0.01
        var summaries: [EpochSummary] = []
        let one = try SoftmaxTrainer(configuration: configuration).train(on: data) { summaries.append($0) }

        let zeroGradient = SoftmaxModel().lossAndGradient(on: data, l2: 0.01).gradient
        let expectedWeights = zeroGradient.weights.map { -0.2 * $0 }
        let expectedBias = zeroGradient.bias.map { -0.2 * $0 }
        let firstError = max(maxRelativeError(one.weights, expectedWeights), maxRelativeError(one.bias, expectedBias))
        #expect(firstError <= 1e-5, "step 1 relative error \(firstError)")
        // The zero model predicts class 0 for everything (the first of ten equal logits) at loss log 10.
        let zeroLabelFraction = Double(data.labels.filter { $0 == 0 }.count) / 50
        #expect(abs(summaries[0].trainingLoss - Double.log(10)) <= 1e-6, "\(summaries[0].trainingLoss)")
        #expect(summaries[0].trainingAccuracy == zeroLabelFraction)

        configuration.epochs = 2
        let two = try SoftmaxTrainer(configuration: configuration).train(on: data)
        let secondGradient = one.lossAndGradient(on: data, l2: 0.01).gradient
        let rate2 = configuration.learningRate(atEpoch: 2)
        let velocityWeights = zip(expectedWeights, secondGradient.weights).map { 0.5 * $0 - rate2 * $1 }
        let velocityBias = zip(expectedBias, secondGradient.bias).map { 0.5 * $0 - rate2 * $1 }
        let secondWeights = zip(one.weights, velocityWeights).map(+)
        let secondBias = zip(one.bias, velocityBias).map(+)
        let secondError = max(maxRelativeError(two.weights, secondWeights), maxRelativeError(two.bias, secondBias))
        #expect(secondError <= 1e-5, "step 2 relative error \(secondError)")
        print("[momentum] step 1 relative error \(firstError), step 2 relative error \(secondError)")
    }

    @Test func absurdLearningRateThrowsDivergenceNamingEpochAndBatch() throws {
        var configuration = blockTaskConfiguration(seed: 1)
        configuration.learningRate = 1e30
        configuration.batchSize = 10
        let error = try #require(
            thrownError(DivergenceError.self) {
                try SoftmaxTrainer(configuration: configuration).train(on: Self.blocks)
            })
        // Batch 1 is scored at the zero model (loss log 10); its 1e30-sized step makes batch 2's
        // ‖W‖² overflow, so the run stops there.
        #expect(error.epoch == 1)
        #expect(error.batch == 2)
        #expect(error.learningRate == 1e30)
        #expect(error.description.contains("epoch 1, batch 2"), "\(error.description)")
    }

    /// The divergence check scores each batch at the weights it saw, so the update made by the
    /// very last batch is never checked. With one batch and one epoch, an absurd step must still
    /// not come back as a "trained" model whose loss is not finite.
    @Test func absurdStepOnTheLastBatchIsNotReturnedAsATrainedModel() throws {
        var configuration = blockTaskConfiguration(seed: 1)
        configuration.epochs = 1
        configuration.batchSize = Self.blocks.count  // a single batch
        configuration.learningRate = .greatestFiniteMagnitude
        do {
            let model = try SoftmaxTrainer(configuration: configuration).train(on: Self.blocks)
            let evaluation = Evaluation(of: model, on: Self.blocks)
            let largestWeight = model.weights.map { abs($0) }.max() ?? 0
            #expect(
                evaluation.meanLoss.isFinite,
                "train returned without DivergenceError, but the model's loss is \(evaluation.meanLoss) (largest |w| \(largestWeight))"
            )
        } catch let error as DivergenceError {
            #expect(error.epoch == 1 && error.batch == 1, "\(error)")
        }
    }

    @Test(arguments: [1, 2, 3, 7, 10])
    func learningRateDecaysGeometricallyPerEpoch(epoch: Int) {
        var configuration = TrainingConfiguration()
        configuration.learningRate = 0.3
        configuration.learningRateDecay = 0.7
        let expected = 0.3 * Double.pow(0.7, Double(epoch - 1))
        let actual = Double(configuration.learningRate(atEpoch: epoch))
        #expect(relativeError(actual, expected) <= 1e-6, "epoch \(epoch): \(actual) vs η·decay^(e−1) = \(expected)")
    }

    /// decay = 0 is the boundary of the formula: epoch 1 uses η · 0⁰ = η, later epochs 0.
    /// (The CLI only accepts decay in (0, 1], but `TrainingConfiguration` is public API.)
    @Test func zeroDecayKeepsTheFirstEpochRateAndStopsAfterIt() {
        var configuration = TrainingConfiguration()
        configuration.learningRate = 0.3
        configuration.learningRateDecay = 0
        #expect(configuration.learningRate(atEpoch: 1) == 0.3, "epoch 1: \(configuration.learningRate(atEpoch: 1))")
        #expect(configuration.learningRate(atEpoch: 2) == 0, "epoch 2: \(configuration.learningRate(atEpoch: 2))")
    }

    @Test func summariesReportTheDecayedLearningRate() throws {
        var configuration = blockTaskConfiguration(seed: 2)
        configuration.epochs = 3
        var rates: [Float] = []
        _ = try SoftmaxTrainer(configuration: configuration).train(on: Self.blocks.slice(0 ..< 40)) {
            rates.append($0.stepSize)
        }
        #expect(rates == (1 ... 3).map { configuration.learningRate(atEpoch: $0) })
        #expect(rates[0] == 0.02 && rates[2] < rates[1] && rates[1] < rates[0])
    }

    @Test func defaultConfigurationIsTheDocumentedOne() {
        let configuration = TrainingConfiguration()
        #expect(configuration.optimizer == .sgd && configuration.lossFunction == .softmaxCrossEntropy)
        #expect(configuration.epochs == 10 && configuration.batchSize == 100)
        #expect(configuration.learningRate == 0.4 && configuration.momentum == 0.9 && !configuration.nesterov)
        #expect(configuration.schedule == .step && configuration.learningRateDecay == 0.6)
        #expect(configuration.l2 == 1e-4 && configuration.seed == 42 && configuration.patience == nil)
        #expect(configuration.maxIterations == 1000 && configuration.historySize == 10)
        #expect(configuration.threads >= 1)
    }

    @Test func constantAndCosineSchedulesFollowTheirFormulas() {
        var configuration = TrainingConfiguration()
        configuration.learningRate = 0.5
        configuration.epochs = 4
        configuration.schedule = .constant
        #expect((1 ... 4).map { configuration.learningRate(atEpoch: $0) } == [0.5, 0.5, 0.5, 0.5])
        configuration.schedule = .cosine
        // η · ½(1 + cos(π (e − 1) / 4)) for e = 1…4: 0.5, 0.4268, 0.25, 0.0732.
        let expected = [0.5, 0.426_776_7, 0.25, 0.073_223_3]
        let actual = (1 ... 4).map { Double(configuration.learningRate(atEpoch: $0)) }
        #expect(zip(actual, expected).allSatisfy { abs($0 - $1) < 1e-6 }, "\(actual)")
    }

    /// With the whole set as one batch, Nesterov's first step from W = 0, v = 0 is
    /// v₁ = −η∇L(0), W₁ = μv₁ − η∇L(0) = −(1 + μ) η ∇L(0).
    @Test func nesterovFirstStepIsOnePlusMuGradientSteps() throws {
        let data = Self.blocks.slice(0 ..< 50)
        var configuration = blockTaskConfiguration(seed: 3)
        configuration.batchSize = 50
        configuration.epochs = 1
        configuration.momentum = 0.5
        configuration.learningRate = 0.2
        configuration.nesterov = true
        let model = try SoftmaxTrainer(configuration: configuration).train(on: data)
        let gradient = SoftmaxModel().lossAndGradient(on: data, l2: configuration.l2).gradient
        let expectedWeights = gradient.weights.map { -1.5 * 0.2 * $0 },
            expectedBias = gradient.bias.map { -1.5 * 0.2 * $0 }
        let error = max(maxRelativeError(model.weights, expectedWeights), maxRelativeError(model.bias, expectedBias))
        #expect(error <= 1e-5, "Nesterov step 1 relative error \(error)")
    }

    /// Full-batch L-BFGS on the block task with λ = 0.01 (strongly convex) stops by its own
    /// criteria with a gradient near zero, below the objective 5 epochs of SGD reach.
    @Test func lbfgsStopsAtTheMinimumOfTheBlockTask() throws {
        var configuration = blockTaskConfiguration(seed: 1)
        configuration.l2 = 0.01
        configuration.threads = 2
        let sgd = try SoftmaxTrainer(configuration: configuration).train(on: Self.blocks)
        configuration.optimizer = .lbfgs
        var summaries: [EpochSummary] = []
        let outcome = try SoftmaxTrainer(configuration: configuration).run(on: Self.blocks) { summaries.append($0) }
        let atMinimum = outcome.model.lossAndGradient(on: Self.blocks, l2: 0.01)
        let atSGD = sgd.lossAndGradient(on: Self.blocks, l2: 0.01)
        let largestGradient = (atMinimum.gradient.weights + atMinimum.gradient.bias).map { abs(Double($0)) }.max()!
        print(
            "[lbfgs] \(outcome.epochsRun) iterations, stopped: \(outcome.stoppedBecause ?? "limit"), objective \(atMinimum.loss) "
                + "(SGD \(atSGD.loss)), max |∇| \(largestGradient)")
        #expect(outcome.stoppedBecause != nil && outcome.epochsRun < configuration.maxIterations)
        #expect(largestGradient <= 1e-4)
        #expect(atMinimum.loss < atSGD.loss)
        #expect(
            summaries.count == outcome.epochsRun
                && abs(summaries.last!.trainingLoss - atMinimum.loss) <= 1e-6 * atMinimum.loss)
        // The objective never rises from one iteration to the next (the Wolfe decrease condition).
        #expect(zip(summaries, summaries.dropFirst()).allSatisfy { $1.trainingLoss <= $0.trainingLoss })
    }

    /// The Rosenbrock function (1 − x)² + 100 (y − x²)², whose curved valley defeats plain
    /// gradient descent, from (−1.2, 1): L-BFGS reaches the minimum (1, 1).
    @Test func lbfgsMinimisesTheRosenbrockFunction() {
        let minimizer = LBFGS(historySize: 10, maxIterations: 200, gradientTolerance: 1e-10, relativeTolerance: 0)
        var evaluations = 0
        let (x, value, stop) = minimizer.minimize(
            from: [-1.2, 1],
            objective: { p in
                evaluations += 1
                let (a, b) = (p[0], p[1])
                return (
                    (1 - a) * (1 - a) + 100 * (b - a * a) * (b - a * a),
                    [-2 * (1 - a) - 400 * a * (b - a * a), 200 * (b - a * a)]
                )
            }, afterIteration: { _, _, _, _ in true })
        print("[rosenbrock] \(x), f = \(value), \(evaluations) evaluations, stopped: \(stop.rawValue)")
        #expect(abs(x[0] - 1) < 1e-6 && abs(x[1] - 1) < 1e-6, "\(x)")
        #expect(evaluations < 100)
    }

    /// Validation labels shifted by one make the validation loss rise as soon as the model
    /// learns: with patience 2 the run stops after epoch 3, returning epoch 1's weights exactly.
    @Test func earlyStoppingStopsAfterPatienceAndKeepsTheBestWeights() throws {
        let training = Self.blocks.slice(0 ..< 200)
        let shifted = Self.blocks.slice(200 ..< 300)
        let validation = try LabeledImages(
            pixels: shifted.pixels, labels: shifted.labels.map { ($0 + 1) % 10 }, rows: 28, columns: 28)
        var configuration = blockTaskConfiguration(seed: 4)
        configuration.patience = 2
        var losses: [Double] = []
        let outcome = try SoftmaxTrainer(configuration: configuration).run(on: training, validation: validation) {
            losses.append($0.validation!.meanLoss)
        }
        configuration.epochs = 1
        configuration.patience = nil
        let afterOneEpoch = try SoftmaxTrainer(configuration: configuration).train(on: training)
        print(
            "[early stopping] validation losses \(losses), stopped after \(outcome.epochsRun), best \(outcome.bestEpoch ?? 0)"
        )
        #expect(losses.count == 3 && losses[1] > losses[0] && losses[2] > losses[0])
        #expect(outcome.epochsRun == 3 && outcome.bestEpoch == 1 && outcome.stoppedBecause != nil)
        #expect(outcome.model == afterOneEpoch)
    }
}

@Suite("Seeded generator")
struct SeededGeneratorTests {
    @Test func sameSeedGivesTheSameSequenceAndDifferentSeedsDiffer() {
        var a = SeededGenerator(seed: 123), b = SeededGenerator(seed: 123), c = SeededGenerator(seed: 124)
        let sequenceA = (0 ..< 100).map { _ in a.next() }
        let sequenceB = (0 ..< 100).map { _ in b.next() }
        let sequenceC = (0 ..< 100).map { _ in c.next() }
        #expect(sequenceA == sequenceB)
        #expect(zip(sequenceA, sequenceC).filter { $0 == $1 }.isEmpty)
        #expect(Set(sequenceA).count == 100, "no repeats in 100 64-bit draws")
    }

    /// xoshiro256** seeded by SplitMix64 is a published algorithm: pin its first outputs so a
    /// change to the generator (which would silently change every trained model) is caught.
    @Test func outputIsPinnedForSeedZero() {
        var generator = SeededGenerator(seed: 0)
        let first = (0 ..< 3).map { _ in generator.next() }
        var again = SeededGenerator(seed: 0)
        #expect(first == (0 ..< 3).map { _ in again.next() })
        // Computed independently from the published algorithms (SplitMix64 state expansion of seed 0:
        // 0xE220A8397B1DCDAF, 0x6E789E6AA1B965F4, 0x06C45D188009454F, 0xF88BB8A8724C81EC).
        #expect(
            first == [0x99EC_5F36_CB75_F2B4, 0xBF6E_1F78_4956_452A, 0x1A5F_849D_4933_E6E0],
            "\(first.map { String($0, radix: 16) })")
    }

    @Test func shuffleIsAPermutationFixedByTheSeed() {
        var generator = SeededGenerator(seed: 9)
        var values = Array(0 ..< 1000)
        generator.shuffle(&values)
        #expect(values.sorted() == Array(0 ..< 1000))
        #expect(values != Array(0 ..< 1000))
        let fixedPoints = values.enumerated().filter { $0.offset == $0.element }.count
        #expect(fixedPoints < 20, "\(fixedPoints) fixed points in a shuffle of 1000")

        var again = SeededGenerator(seed: 9)
        var replay = Array(0 ..< 1000)
        again.shuffle(&replay)
        #expect(replay == values)

        var tiny = [42]
        generator.shuffle(&tiny)
        #expect(tiny == [42])
        var empty: [Int] = []
        generator.shuffle(&empty)
        #expect(empty.isEmpty)
    }

    @Test(arguments: [1, 2, 3, 10, 1000, 60_000, Int(Int32.max)])
    func nextBelowStaysInRangeAndCoversIt(bound: Int) {
        var generator = SeededGenerator(seed: UInt64(bound))
        var seen = Set<Int>()
        for _ in 0 ..< 5000 {
            let value = generator.next(below: bound)
            #expect((0 ..< bound).contains(value), "next(below: \(bound)) gave \(value)")
            seen.insert(value)
        }
        if bound <= 10 {
            #expect(seen.count == bound, "only \(seen.sorted()) of 0..<\(bound) drawn in 5000 tries")
        } else {
            #expect(seen.count > min(bound, 5000) / 2, "\(seen.count) distinct values below \(bound)")
        }
    }
}
