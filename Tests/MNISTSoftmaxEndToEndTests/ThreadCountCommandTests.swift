import Foundation
import MNISTSoftmax
import MNISTSoftmaxTestSupport
import Testing

/// `train --threads` through the executable: the thread count changes no bit of the model file.
@Suite("Thread count, end to end")
struct ThreadCountCommandTests {
    /// Through the executable, as a user runs it: `train --threads` 1, 2, 3 and 7 save
    /// byte-identical weight and bias tensors. `--no-follow-free-cores` keeps the count asked for
    /// even while the test runner's other suites keep the cores busy, and each epoch's JSON line
    /// shows the threads it used (at most one per column shard: 2).
    @Test func trainSavesTheSameTensorsForEveryThreadCount() throws {
        try withTemporaryDirectory { work in
            try writeDataDirectory(train: inkedImages(count: 250, seed: 11), test: inkedImages(count: 40, seed: 12),
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
                let differing = differingBits(try #require(models[threads]), one)
                #expect(differing == 0, "\(threads) threads: \(differing) of 7,850 parameters differ from 1 thread's")
            }
        }
    }
}
