import Foundation
import MNISTSoftmax
import MNISTSoftmaxTestSupport
import Testing

/// `train --threads` through the executable: the thread count changes no bit of the weights, and
/// the model file records it capped at one per column shard.
@Suite("Thread count, end to end")
struct ThreadCountCommandTests {
    /// Through the executable, as a user runs it. There are two paths through the kernels: one
    /// thread, which has every column shard, and two, which share the shards' tasks; a count above
    /// one per column shard (2) is capped. So `train --threads` 1 and 2 save byte-identical weight
    /// and bias tensors; 3 and 7 use 2 threads in every epoch (`--no-follow-free-cores` keeps the
    /// count even while the test runner's other suites keep the cores busy) and save the very file
    /// that 2 saves, whose `threads` is the capped count; and a run that follows the free cores,
    /// whatever count its passes step down to, saves that file too.
    @Test func trainSavesTheSameTensorsForEveryThreadCountAndRecordsTheCap() throws {
        try withTemporaryDirectory { work in
            try writeDataDirectory(
                train: inkedImages(count: 250, seed: 11), test: inkedImages(count: 40, seed: 12),
                to: work)
            // The saved file's bytes, after checking each epoch's `threads`.
            func train(threads: Int, followingFreeCores: Bool = false) throws -> [UInt8] {
                let path = work + "/threads-\(threads)-\(followingFreeCores).safetensors"
                let run = try CommandRun(
                    [
                        "train", "--data-dir", work, "--epochs", "3", "--batch-size", "32", "--learning-rate", "0.01",
                        "--threads", String(threads), "--model", path, "--quiet", "--json",
                    ]
                        + (followingFreeCores ? [] : ["--no-follow-free-cores"]))
                #expect(run.status == 0, "\(run.standardError)")
                let used = run.standardOutput.split(separator: "\n").compactMap { line -> Int? in
                    guard let record = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                        record["type"] as? String == "epoch"
                    else { return nil }
                    return record["threads"] as? Int
                }
                if followingFreeCores {
                    #expect(
                        used.count == 3 && used.allSatisfy { (1 ... 2).contains($0) },
                        "--threads \(threads): epochs used \(used) threads")
                } else {
                    #expect(
                        used == Array(repeating: min(threads, 2), count: 3),
                        "--threads \(threads): epochs used \(used) threads")
                }
                return try FileIO.readAll(path)
            }
            let one = try SafeTensorsFile.decode(train(threads: 1), path: "1 thread")
            let twoBytes = try train(threads: 2)
            let two = try SafeTensorsFile.decode(twoBytes, path: "2 threads")
            #expect(one.model.weights.contains { $0 != 0 }, "training moved the weights")
            let differing = differingBits(two.model, one.model)
            #expect(differing == 0, "2 threads: \(differing) of 7,850 parameters differ from 1 thread's")
            #expect(
                one.metadata["threads"] == "1" && two.metadata["threads"] == "2",
                "recorded \(one.metadata["threads"] ?? "nothing") and \(two.metadata["threads"] ?? "nothing")")
            for threads in [3, 7] {
                #expect(
                    try train(threads: threads) == twoBytes, "--threads \(threads) saved another file than --threads 2")
            }
            #expect(
                try train(threads: 2, followingFreeCores: true) == twoBytes,
                "following the free cores saved another file")
        }
    }

    /// `train --help` says the cap that the model file records.
    @Test func trainHelpSaysTheThreadCap() throws {
        let run = try CommandRun(["train", "--help"])
        let help = run.standardOutput.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.joined(
            separator: " ")
        #expect(
            help.contains(
                "the kernels use at most 2 (one per column shard), and the model file records the count after that cap"),
            "\(run.standardOutput)")
        #expect(SoftmaxTrainer.maximumThreads == 2)
        var configuration = TrainingConfiguration()
        configuration.threads = 7
        #expect(configuration.threadLimit == 2)
    }
}
