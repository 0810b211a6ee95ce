import Foundation
import MNISTSoftmax
import Testing

/// The thread count decides only which thread computes which column shard or group of samples,
/// never the shape of a sum: the same seed gives the same bits on any number of threads.
@Suite("Thread count")
struct ThreadCountTests {
    /// Random pixels with about 40% of the vectors of 16 set to 0, so that the kernels' skipping
    /// of blank vectors and both column shards are exercised.
    static func inkedImages(count: Int, seed: UInt64) throws -> LabeledImages {
        let random = try randomImageBatch(count: count, seed: seed)
        var generator = SeededGenerator(seed: seed + 1)
        var pixels = random.pixels
        for vector in 0 ..< pixels.count / 16 where generator.next(below: 10) < 4 {
            pixels.replaceSubrange(vector * 16 ..< vector * 16 + 16, with: repeatElement(0, count: 16))
        }
        return try LabeledImages(pixels: pixels, labels: random.labels, rows: 28, columns: 28, source: "inked batch \(seed)")
    }

    /// How many parameters (weights, then bias) of two models differ in their bits.
    static func differingBits(_ a: SoftmaxModel, _ b: SoftmaxModel) -> Int {
        differingBits(a.weights + a.bias, b.weights + b.bias)
    }

    static func differingBits(_ a: [Float], _ b: [Float]) -> Int {
        zip(a, b).filter { $0.bitPattern != $1.bitPattern }.count
    }

    /// Through the executable, as a user runs it: `train --threads` 1, 2, 3 and 7 save
    /// byte-identical weight and bias tensors. `--no-follow-free-cores` keeps the count asked for
    /// even while the test runner's other suites keep the cores busy, and each epoch's JSON line
    /// shows the threads it used (at most one per column shard: 2).
    @Test func trainSavesTheSameTensorsForEveryThreadCount() throws {
        try withTemporaryDirectory { work in
            try writeDataDirectory(train: Self.inkedImages(count: 250, seed: 11), test: Self.inkedImages(count: 40, seed: 12),
                                   to: work)
            var models: [Int: SoftmaxModel] = [:]
            for threads in [1, 2, 3, 7] {
                let path = work + "/threads-\(threads).safetensors"
                let run = try CommandRun(["train", "--data-dir", work, "--epochs", "3", "--batch-size", "32", "--learning-rate", "0.01",
                                          "--threads", String(threads), "--no-follow-free-cores", "--model", path, "--quiet", "--json"])
                #expect(run.status == 0, "\(run.standardError)")
                let used = run.standardOutput.split(separator: "\n").compactMap { line -> Int? in
                    guard let record = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                          record["type"] as? String == "epoch" else { return nil }
                    return record["threads"] as? Int
                }
                #expect(used == Array(repeating: min(threads, 2), count: 3), "--threads \(threads): epochs used \(used) threads")
                models[threads] = try SafeTensorsFile.read(path).model
            }
            let one = try #require(models[1])
            #expect(one.weights.contains { $0 != 0 }, "training moved the weights")
            for threads in [2, 3, 7] {
                let differing = Self.differingBits(try #require(models[threads]), one)
                #expect(differing == 0, "\(threads) threads: \(differing) of 7,850 parameters differ from 1 thread's")
            }
        }
    }

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
        let data = try Self.inkedImages(count: 200, seed: 31)
        var configuration = Self.twoShortEpochs(threads: 1)
        let one = try SoftmaxTrainer(configuration: configuration).train(on: data)
        configuration.threads = 2
        var summaries: [EpochSummary] = []
        let held = try SoftmaxTrainer(configuration: configuration).train(on: data, afterEpoch: { summaries.append($0) },
                                                                        afterBatch: { _ in usleep(5_000) })
        let takenOver = summaries.reduce(0) { $0 + $1.tasksTakenOver }
        print("[thread count] thread 0 held back 5 ms per batch: \(takenOver) tasks taken over in \(summaries.count) epochs")
        #expect(summaries.map(\.threads) == [2, 2])
        #expect(takenOver > 0, "thread 1 took over none of thread 0's tasks")
        #expect(one.weights.contains { $0 != 0 })
        #expect(Self.differingBits(one, held) == 0, "\(Self.differingBits(one, held)) of 7,850 parameters differ from 1 thread's")
    }

    /// The library, for both optimizers and the three costs: 1 and 2 threads give the same bits.
    @Test(arguments: [Optimizer.sgd, .lbfgs], LossFunction.allCases)
    func trainerGivesTheSameBitsOnOneAndTwoThreads(optimizer: Optimizer, lossFunction: LossFunction) throws {
        let data = try Self.inkedImages(count: 200, seed: 21)
        var configuration = Self.twoShortEpochs(threads: 1)
        configuration.optimizer = optimizer
        configuration.lossFunction = lossFunction
        configuration.maxIterations = 5
        let one = try SoftmaxTrainer(configuration: configuration).train(on: data)
        configuration.threads = 2
        let two = try SoftmaxTrainer(configuration: configuration).train(on: data)
        #expect(one.weights.contains { $0 != 0 })
        #expect(Self.differingBits(one, two) == 0, "\(optimizer), \(lossFunction): \(Self.differingBits(one, two)) parameters differ")
    }

    /// The fused gradient sums, over a batch of several blocks, on 1, 2 and 3 threads: equal bits.
    @Test func gradientSumsDoNotDependOnTheThreadCount() throws {
        let data = try Self.inkedImages(count: 600, seed: 31)
        let model = randomModel(scale: 0.05, seed: 32)
        let gradients = [1, 2, 3].map { model.lossAndGradient(on: data, l2: 1e-3, threads: $0) }
        for (threads, other) in zip([2, 3], gradients.dropFirst()) {
            #expect(other.loss.bitPattern == gradients[0].loss.bitPattern, "\(threads) threads: loss \(other.loss) vs \(gradients[0].loss)")
            let differing = Self.differingBits(other.gradient.weights + other.gradient.bias,
                                               gradients[0].gradient.weights + gradients[0].gradient.bias)
            #expect(differing == 0, "\(threads) threads: \(differing) gradient entries differ")
        }
    }
}
