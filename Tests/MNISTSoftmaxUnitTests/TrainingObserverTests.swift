import MNISTSoftmax
import MNISTSoftmaxTestSupport
import RealModule
import Testing

/// The hook that `serve`'s live training watches through, and the statistic it shows.
struct TrainingObserverTests {
    /// `ThreadCountTests.twoShortEpochs` (200 samples in batches of 48: 5 batches an epoch) for `lossFunction`.
    static func twoShortEpochs(threads: Int, lossFunction: LossFunction) -> TrainingConfiguration {
        var configuration = ThreadCountTests.twoShortEpochs(threads: threads)
        configuration.lossFunction = lossFunction
        return configuration
    }

    /// Watching every 2 batches, on 1 and 2 threads, leaves the weights bit for bit as an unwatched
    /// run's; the observer is called after batches 2, 4 and the epoch's last (5), and the weights it
    /// reads after the last batch of the last epoch are the result.
    @Test(arguments: [1, 2], LossFunction.allCases)
    func watchingEveryFewBatchesChangesNoBit(threads: Int, lossFunction: LossFunction) throws {
        let data = try blockDataset(count: 200, seed: 5)
        let trainer = SoftmaxTrainer(configuration: Self.twoShortEpochs(threads: threads, lossFunction: lossFunction))
        let unwatched = try trainer.train(on: data)
        var seen: [(epoch: Int, batches: Int)] = []
        var lastWeights: SoftmaxModel?
        let observer = TrainingObserver(every: 2) { progress, weights in
            seen.append((progress.epoch, progress.batchesDone))
            lastWeights = weights()
        }
        let watched = try trainer.run(on: data, observer: observer).model
        #expect(seen.map(\.epoch) == [1, 1, 1, 2, 2, 2] && seen.map(\.batches) == [2, 4, 5, 2, 4, 5], "\(seen)")
        #expect(unwatched.weights.contains { $0 != 0 })
        #expect(
            differingBits(unwatched, watched) == 0,
            "\(differingBits(unwatched, watched)) of 7,850 parameters differ from the unwatched run's")
        #expect(lastWeights.map { differingBits($0, watched) } == 0)
    }

    /// An error the observer throws ends training and comes out of `run`.
    @Test func anObserversErrorStopsTraining() throws {
        struct Enough: Error {}
        let data = try blockDataset(count: 200, seed: 5)
        var calls = 0
        let observer = TrainingObserver(every: 1) { _, _ in
            calls += 1
            if calls == 3 { throw Enough() }
        }
        let trainer = SoftmaxTrainer(configuration: Self.twoShortEpochs(threads: 1, lossFunction: .softmaxCrossEntropy))
        #expect(throws: Enough.self) { try trainer.run(on: data, observer: observer) }
        #expect(calls == 3)
    }

    /// Two samples, both wrong, with logits made by hand: the mean |∂L/∂z_y| is (|δ_1| + |δ_2|)/2
    /// with δ from the closed forms (p_y − 1, σ(z_y) − 1, and the quadratic cost's through the
    /// softmax Jacobian), within 1e-6; and a third, right sample does not count.
    @Test(arguments: LossFunction.allCases)
    func meanTrueClassGradientOverTheWrongSamplesMatchesTheClosedForm(lossFunction: LossFunction) throws {
        // One lit pixel per image: pixel j of image n is 255, so z = W[:, j] + b.
        var weights = [Float](repeating: 0, count: SoftmaxModel.classCount * SoftmaxModel.featureCount)
        let columns = [0, 1, 2]
        let logits: [[Float]] = [
            [0, 3, 0, 0, 0, 0, 0, 0, 0, 0], [1, 0, 0, 0, 0, 0, 0, 0, 0, 6], [0, 0, 5, 0, 0, 0, 0, 0, 0, 0],
        ]
        for (column, z) in zip(columns, logits) {
            for k in 0 ..< SoftmaxModel.classCount { weights[k * SoftmaxModel.featureCount + column] = z[k] }
        }
        let model = SoftmaxModel(weights: weights, bias: [Float](repeating: 0, count: SoftmaxModel.classCount))
        var pixels = [UInt8](repeating: 0, count: 3 * SoftmaxModel.featureCount)
        for (n, column) in columns.enumerated() { pixels[n * SoftmaxModel.featureCount + column] = 255 }
        // Labels 0, 0, 2: the first two are wrong (argmax 1 and 9), the third right.
        let data = try LabeledImages(pixels: pixels, labels: [0, 0, 2], rows: 28, columns: 28)
        let measured = MisclassifiedGradient(of: model, on: data, lossFunction: lossFunction)
        let expected =
            logits.prefix(2).map { z -> Double in
                let z = z.map(Double.init), label = 0
                let p = z.map { Double.exp($0) }.map { $0 / z.map { Double.exp($0) }.reduce(0, +) }
                switch lossFunction {
                case .softmaxCrossEntropy: return abs(p[label] - 1)
                case .sigmoidBinaryCrossEntropy: return abs(1 / (1 + Double.exp(-z[label])) - 1)
                case .softmaxQuadratic:
                    let inner = p.indices.reduce(0.0) { $0 + p[$1] * (p[$1] - ($1 == label ? 1 : 0)) }
                    return abs(p[label] * ((p[label] - 1) - inner))
                }
            }.reduce(0, +) / 2
        #expect(measured.count == 3 && measured.misclassified == 2)
        #expect(
            abs(measured.meanTrueClassMagnitude - expected) <= 1e-6,
            "\(lossFunction): \(measured.meanTrueClassMagnitude) against \(expected), difference \(abs(measured.meanTrueClassMagnitude - expected))"
        )
    }
}
