import Foundation
import MNISTSoftmax
import MNISTSoftmaxTestSupport
import Testing

/// The thread count decides only which thread computes which column shard or group of samples,
/// never the shape of a sum: the same seed gives the same bits on any number of threads.
@Suite("Thread count")
struct ThreadCountTests {
    /// 2 epochs in batches of 48 (200 samples: 4 full batches and one of 8), η = 0.01, on exactly
    /// `threads` threads whatever the load.
    static func twoShortEpochs(threads: Int) -> TrainingConfiguration {
        var configuration = TrainingConfiguration()
        configuration.epochs = 2
        configuration.batchSize = 48
        configuration.learningRate = 0.01
        configuration.threadsFollowFreeCores = false
        configuration.threads = threads
        return configuration
    }

    /// A thread that falls behind is helped, and the bits do not change. Thread 0 reports each
    /// step (`afterBatch`) before it goes on to its own shard's backward pass, update and forward
    /// pass; sleeping there for 5 ms holds it back while thread 1, done with its own shard's tasks
    /// within tens of microseconds, takes over thread 0's.
    @Test func aThreadThatFallsBehindIsHelpedAndTheBitsStayTheSame() throws {
        let data = try inkedImages(count: 200, seed: 31)
        var configuration = Self.twoShortEpochs(threads: 1)
        let one = try SoftmaxTrainer(configuration: configuration).train(on: data)
        configuration.threads = 2
        var summaries: [EpochSummary] = []
        let held = try SoftmaxTrainer(configuration: configuration).train(
            on: data, afterEpoch: { summaries.append($0) },
            afterBatch: { _ in usleep(5_000) })
        let takenOver = summaries.reduce(0) { $0 + $1.tasksTakenOver }
        print(
            "[thread count] thread 0 held back 5 ms per batch: \(takenOver) tasks taken over in \(summaries.count) epochs"
        )
        #expect(summaries.map(\.threads) == [2, 2])
        #expect(takenOver > 0, "thread 1 took over none of thread 0's tasks")
        #expect(one.weights.contains { $0 != 0 })
        #expect(differingBits(one, held) == 0, "\(differingBits(one, held)) of 7,850 parameters differ from 1 thread's")
    }

    /// The library, for both optimizers and the three costs: 1 and 2 threads give the same bits.
    @Test(arguments: [Optimizer.sgd, .lbfgs], LossFunction.allCases)
    func trainerGivesTheSameBitsOnOneAndTwoThreads(optimizer: Optimizer, lossFunction: LossFunction) throws {
        let data = try inkedImages(count: 200, seed: 21)
        var configuration = Self.twoShortEpochs(threads: 1)
        configuration.optimizer = optimizer
        configuration.lossFunction = lossFunction
        configuration.maxIterations = 5
        let one = try SoftmaxTrainer(configuration: configuration).train(on: data)
        configuration.threads = 2
        let two = try SoftmaxTrainer(configuration: configuration).train(on: data)
        #expect(one.weights.contains { $0 != 0 })
        #expect(
            differingBits(one, two) == 0, "\(optimizer), \(lossFunction): \(differingBits(one, two)) parameters differ")
    }

    /// The fused gradient sums, over a batch of several blocks, on both paths (1 thread, and 2
    /// sharing the tasks): equal bits.
    @Test func gradientSumsDoNotDependOnTheThreadCount() throws {
        let data = try inkedImages(count: 600, seed: 31)
        let model = randomModel(scale: 0.05, seed: 32)
        let (one, two) = (
            model.lossAndGradient(on: data, l2: 1e-3, threads: 1), model.lossAndGradient(on: data, l2: 1e-3, threads: 2)
        )
        #expect(two.loss.bitPattern == one.loss.bitPattern, "2 threads: loss \(two.loss) vs \(one.loss)")
        let differing = differingBits(
            two.gradient.weights + two.gradient.bias, one.gradient.weights + one.gradient.bias)
        #expect(differing == 0, "2 threads: \(differing) gradient entries differ")
    }
}
