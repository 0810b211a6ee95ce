import Foundation
import MNISTSoftmax
import MNISTSoftmaxTestSupport
import Testing

/// `train` on a tiny synthetic data directory, seen through a pseudo-terminal and through pipes.
struct ProgressTests {
    /// 600 training and 100 test images of the separable block task, as raw IDX files.
    static func tinyDataDirectory() throws -> String {
        let directory = try makeScratchDirectory("mnist-softmax-tiny-data")
        try writeDataDirectory(
            train: blockDataset(count: 600, seed: 1), test: blockDataset(count: 100, seed: 2), to: directory)
        return directory
    }

    static let escape = "\u{1B}"

    @Test func underAPseudoTerminalTrainDrawsABarRedrawnInPlace() throws {
        let data = try Self.tinyDataDirectory()
        defer { removeScratchDirectory(data) }
        let command = [
            CommandRun.executable.path, "train", "--data-dir", data, "--model", data + "/m.safetensors",
            "--epochs", "2", "--batch-size", "10",
        ].map { "'\($0)'" }.joined(separator: " ")
        // script(1) runs the command with a pseudo-terminal as its stdin, stdout and stderr, and
        // copies everything the terminal shows to its own stdout.
        let script = try CommandRun(
            ["-qec", command, "/dev/null"], executable: URL(fileURLWithPath: "/usr/bin/script"))
        #expect(script.status == 0, "\(script.standardOutput)\(script.standardError)")
        let screen = script.standardOutput
        // Each frame starts with a carriage return and ends with erase-to-end-of-line (ESC [K).
        let frames = screen.split(separator: "\r").filter { $0.hasPrefix("epoch ") && $0.contains("[K") }
        // The first and last batch of each epoch are always drawn, whatever the timing.
        for epoch in 1 ... 2 {
            let first = try #require(frames.first { $0.hasPrefix("epoch \(epoch)/2 [>") }, "\(screen)")
            #expect(first.contains("] 1/60 batches, "))
            let last = try #require(
                frames.first { $0.hasPrefix("epoch \(epoch)/2 [") && $0.contains("] 60/60 batches, ") }, "\(screen)")
            let bar = last.split(separator: "[")[1].split(separator: "]")[0]
            #expect(!bar.isEmpty && bar.allSatisfy { $0 == "=" }, "a full epoch fills the bar: \(last)")
            #expect(last.contains(" samples/s, loss ") && last.contains(", ETA 0.0 s"), "\(last)")
        }
        // The bar is erased before the epoch's table row is printed on stdout.
        #expect(screen.contains("\(Self.escape)[K\r\(Self.escape)[K    1 "), "\(screen)")
        // The per-epoch lines of the non-terminal style do not appear.
        #expect(!screen.contains("epoch 1/2: "))
    }

    @Test func inAPipeTrainPrintsPlainEpochLinesWithoutTerminalCodes() throws {
        let data = try Self.tinyDataDirectory()
        defer { removeScratchDirectory(data) }
        let csv = data + "/metrics.csv"
        let run = try CommandRun([
            "train", "--data-dir", data, "--model", data + "/m.safetensors", "--epochs", "2",
            "--batch-size", "10", "--metrics-csv", csv,
        ])
        #expect(run.status == 0, "\(run.standardError)")
        #expect(!run.standardError.contains("\r") && !run.standardError.contains(Self.escape), "\(run.standardError)")
        let epochLines = run.standardError.split(separator: "\n").filter { $0.hasPrefix("epoch ") }
        #expect(epochLines.count == 2)
        #expect(epochLines.first?.hasPrefix("epoch 1/2: 60 batches, 600 samples in ") == true, "\(epochLines)")

        // The CSV has a header and one row per epoch with the same loss as the stdout table.
        let rows = try String(contentsOfFile: csv, encoding: .utf8).split(separator: "\n").map {
            $0.split(separator: ",", omittingEmptySubsequences: false)
        }
        #expect(
            rows.first == [
                "epoch", "loss", "train_accuracy", "validation_accuracy", "validation_loss", "learning_rate", "seconds",
            ])
        #expect(rows.count == 3)
        let tableLoss = run.standardOutput.split(separator: "\n")[1].split(separator: " ")[1]
        let csvLoss = try #require(Double(String(rows[1][1])))
        #expect(String(format: "%.4f", csvLoss) == String(tableLoss))
        #expect(rows[1][3].isEmpty && rows[1][4].isEmpty)
        #expect(Double(String(rows[2][5])).map { abs($0 - 0.24) < 1e-6 } == true)
    }

    @Test func quietLeavesStandardErrorEmpty() throws {
        let data = try Self.tinyDataDirectory()
        defer { removeScratchDirectory(data) }
        let run = try CommandRun([
            "train", "--data-dir", data, "--model", data + "/m.safetensors", "--epochs", "1", "--quiet",
        ])
        #expect(run.status == 0)
        #expect(run.standardError.isEmpty, "\(run.standardError)")
        #expect(run.standardOutput.contains("test accuracy"))
    }

    /// Whether the tests, and so the executable built with them, are unoptimised.
    static let isDebugBuild = _isDebugAssertConfiguration()

    /// A debug build says, in one line before anything else, that training is far slower and how
    /// to build for release; an optimised build does not. The tests and the executable are built
    /// in the same configuration, so the test's own tells which to expect.
    @Test func onlyADebugBuildSaysThatTrainingIsFarSlower() throws {
        let data = try Self.tinyDataDirectory()
        defer { removeScratchDirectory(data) }
        let run = try CommandRun(["train", "--data-dir", data, "--model", data + "/m.safetensors", "--epochs", "1"])
        #expect(run.status == 0, "\(run.standardError)")
        let lines = run.standardError.split(separator: "\n")
        let notes = lines.filter { $0.contains("debug build") }
        if Self.isDebugBuild {
            #expect(notes.count == 1 && lines.first == notes.first, "\(run.standardError)")
            #expect(
                notes.first?.contains("training is far slower") == true
                    && notes.first?.contains("swift build -c release") == true)
        } else {
            #expect(notes.isEmpty, "\(run.standardError)")
            #expect(lines.first?.hasPrefix("loading MNIST") == true, "\(run.standardError)")
        }
    }

    @Test func aDirectoryAsTheMetricsFileIsRefusedBeforeTraining() throws {
        let data = try Self.tinyDataDirectory()
        defer { removeScratchDirectory(data) }
        let run = try CommandRun([
            "train", "--data-dir", data, "--model", data + "/m.safetensors", "--metrics-csv", data,
        ])
        #expect(run.status == 1)
        #expect(run.standardError.contains("\(data): is a directory"), "\(run.standardError)")
        #expect(!run.standardError.contains("loading MNIST"))
        #expect(!FileManager.default.fileExists(atPath: data + "/m.safetensors"))
    }
}
