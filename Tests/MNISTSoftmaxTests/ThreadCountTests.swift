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

    /// Through the executable, as a user runs it. There are two paths through the kernels: one
    /// thread, which has every column shard, and two, which share the shards' tasks; a count above
    /// one per column shard (2) is capped. So `train --threads` 1 and 2 save byte-identical weight
    /// and bias tensors; 3 and 7 use 2 threads in every epoch (`--no-follow-free-cores` keeps the
    /// count even while the test runner's other suites keep the cores busy) and save the very file
    /// that 2 saves, whose `threads` is the capped count; and a run that follows the free cores,
    /// whatever count its passes step down to, saves that file too.
    @Test func trainSavesTheSameTensorsForEveryThreadCountAndRecordsTheCap() throws {
        try withTemporaryDirectory { work in
            try writeDataDirectory(train: Self.inkedImages(count: 250, seed: 11), test: Self.inkedImages(count: 40, seed: 12),
                                   to: work)
            // The saved file's bytes, after checking each epoch's `threads`.
            func train(threads: Int, followingFreeCores: Bool = false) throws -> [UInt8] {
                let path = work + "/threads-\(threads)-\(followingFreeCores).safetensors"
                let run = try CommandRun(["train", "--data-dir", work, "--epochs", "3", "--batch-size", "32", "--learning-rate", "0.01",
                                          "--threads", String(threads), "--model", path, "--quiet", "--json"]
                                         + (followingFreeCores ? [] : ["--no-follow-free-cores"]))
                #expect(run.status == 0, "\(run.standardError)")
                let used = run.standardOutput.split(separator: "\n").compactMap { line -> Int? in
                    guard let record = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                          record["type"] as? String == "epoch" else { return nil }
                    return record["threads"] as? Int
                }
                if followingFreeCores {
                    #expect(used.count == 3 && used.allSatisfy { (1 ... 2).contains($0) }, "--threads \(threads): epochs used \(used) threads")
                } else {
                    #expect(used == Array(repeating: min(threads, 2), count: 3), "--threads \(threads): epochs used \(used) threads")
                }
                return try FileIO.readAll(path)
            }
            let one = try SafeTensorsFile.decode(train(threads: 1), path: "1 thread")
            let twoBytes = try train(threads: 2)
            let two = try SafeTensorsFile.decode(twoBytes, path: "2 threads")
            #expect(one.model.weights.contains { $0 != 0 }, "training moved the weights")
            let differing = Self.differingBits(two.model, one.model)
            #expect(differing == 0, "2 threads: \(differing) of 7,850 parameters differ from 1 thread's")
            #expect(one.metadata["threads"] == "1" && two.metadata["threads"] == "2",
                    "recorded \(one.metadata["threads"] ?? "nothing") and \(two.metadata["threads"] ?? "nothing")")
            for threads in [3, 7] {
                #expect(try train(threads: threads) == twoBytes, "--threads \(threads) saved another file than --threads 2")
            }
            #expect(try train(threads: 2, followingFreeCores: true) == twoBytes, "following the free cores saved another file")
        }
    }

    /// `train --help` says the cap that the model file records.
    @Test func trainHelpSaysTheThreadCap() throws {
        let run = try CommandRun(["train", "--help"])
        let help = run.standardOutput.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.joined(separator: " ")
        #expect(help.contains("the kernels use at most 2 (one per column shard), and the model file records the count after that cap"),
                "\(run.standardOutput)")
        #expect(SoftmaxTrainer.maximumThreads == 2)
        var configuration = TrainingConfiguration()
        configuration.threads = 7
        #expect(configuration.threadLimit == 2)
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

    /// The fused gradient sums, over a batch of several blocks, on both paths (1 thread, and 2
    /// sharing the tasks): equal bits.
    @Test func gradientSumsDoNotDependOnTheThreadCount() throws {
        let data = try Self.inkedImages(count: 600, seed: 31)
        let model = randomModel(scale: 0.05, seed: 32)
        let (one, two) = (model.lossAndGradient(on: data, l2: 1e-3, threads: 1), model.lossAndGradient(on: data, l2: 1e-3, threads: 2))
        #expect(two.loss.bitPattern == one.loss.bitPattern, "2 threads: loss \(two.loss) vs \(one.loss)")
        let differing = Self.differingBits(two.gradient.weights + two.gradient.bias, one.gradient.weights + one.gradient.bias)
        #expect(differing == 0, "2 threads: \(differing) gradient entries differ")
    }
}
