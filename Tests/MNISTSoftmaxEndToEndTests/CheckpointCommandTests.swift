import Foundation
import MNISTSoftmax
import MNISTSoftmaxTestSupport
import Testing

/// Checkpoints through the `mnist-softmax` executable.
@Suite("Checkpoints, end to end")
struct CheckpointCommandTests {
    /// The lines of a run's standard error that give a hint.
    static func hints(_ run: CommandRun) -> [String] {
        run.standardError.split(separator: "\n").filter { $0.hasPrefix("HINT:") }.map(String.init)
    }

    /// Through the real executable: train 2 epochs with a checkpoint on 2 threads, resume to 4
    /// on 1 thread, and compare with 4 epochs in one go (the thread count changes no bit); a
    /// resume with another seed is refused, naming the setting.
    @Test func resumeThroughTheExecutableMatchesOneUninterruptedRun() throws {
        try withTemporaryDirectory { work in
            let data = try writeBlockDataDirectory(in: work, trainCount: 300)
            let common = ["train", "--data-dir", data, "--batch-size", "32", "--learning-rate", "0.02"]
            let whole = try CommandRun(
                common + ["--threads", "2", "--epochs", "4", "--model", work + "/whole.safetensors"])
            #expect(whole.status == 0, "\(whole.standardError)")
            let first = try CommandRun(
                common + [
                    "--threads", "2", "--epochs", "2", "--model", work + "/first.safetensors",
                    "--checkpoint-every", "2", "--checkpoint", work + "/run.checkpoint",
                ])
            #expect(
                first.status == 0 && first.standardError.contains("saved checkpoint after epoch 2"),
                "\(first.standardError)")
            let resumed = try CommandRun(
                common + [
                    "--threads", "1", "--epochs", "4", "--model", work + "/resumed.safetensors",
                    "--resume", work + "/run.checkpoint",
                ])
            #expect(
                resumed.status == 0 && resumed.standardError.contains("resuming after epoch 2"),
                "\(resumed.standardError)")
            #expect(
                try SafeTensorsFile.read(work + "/resumed.safetensors").model
                    == SafeTensorsFile.read(work + "/whole.safetensors").model)

            let reseeded = try CommandRun(
                common + [
                    "--epochs", "4", "--seed", "7", "--model", work + "/other.safetensors",
                    "--resume", work + "/run.checkpoint",
                ])
            #expect(reseeded.status == 1)
            #expect(reseeded.standardError.contains("seed = 42, this run has 7"), "\(reseeded.standardError)")
            #expect(!FileManager.default.fileExists(atPath: work + "/other.safetensors"))

            // A model given as a checkpoint, and a checkpoint as a model: one hint each, in the
            // command line's terms, in place of the library's.
            let modelAsCheckpoint = try CommandRun(
                common + [
                    "--epochs", "4", "--model", work + "/other.safetensors", "--resume", work + "/whole.safetensors",
                ])
            #expect(
                Self.hints(modelAsCheckpoint) == [
                    "HINT: --resume takes a file written by `train --checkpoint-every`, not a model"
                ],
                "\(modelAsCheckpoint.standardError)")
            let checkpointAsModel = try CommandRun([
                "evaluate", "--data-dir", data, "--model", work + "/run.checkpoint",
            ])
            let resumeHint =
                "HINT: this is a training checkpoint, not a model; continue it with `mnist-softmax train --resume "
            #expect(
                Self.hints(checkpointAsModel) == [resumeHint + work + "/run.checkpoint`"],
                "\(checkpointAsModel.standardError)")
        }
    }
}
