import Foundation
import MNISTSoftmax
import MNISTSoftmaxTestSupport
import Testing

/// The real MNIST files, from $MNIST_DATA_DIR when it is set (and then only from there, so that
/// pointing it at an empty folder runs the tests as without data), else ../shared/mnist beside
/// the package, else data/mnist.
enum RealMNIST {
    static let directory: String? = {
        let chosen = ProcessInfo.processInfo.environment[DataDirectory.environmentVariable].flatMap {
            $0.isEmpty ? nil : $0
        }
        let candidates = chosen.map { [$0] } ?? [packageRoot + "/../shared/mnist", packageRoot + "/data/mnist"]
        return candidates.first { path in
            MNISTFile.all.allSatisfy { (try? DataDirectory(path: path).location(of: $0)) != nil }
        }
    }()

    static let unavailableReason: Comment =
        "no MNIST data: set MNIST_DATA_DIR, put the files in ../shared/mnist or data/mnist, or run `mnist-softmax fetch`"

    /// A model trained by `mnist-softmax train` with its defaults, made once for the tests that
    /// need one (in a temporary folder that lives as long as the test process); nil without data.
    static let defaultModel: String? = {
        guard let directory, let work = try? makeScratchDirectory("mnist-softmax-default-model") else { return nil }
        let path = work + "/default.safetensors"
        let run = try? CommandRun(["train", "--data-dir", directory, "--model", path, "--quiet"])
        return run?.status == 0 ? path : nil
    }()
}

/// Runs the `mnist-softmax` executable built beside the test bundle.
struct CommandRun {
    let status: Int32
    let standardOutput: String
    let standardError: String

    static let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        .deletingLastPathComponent().appendingPathComponent("mnist-softmax")

    /// Runs `executable` (mnist-softmax by default) with `arguments` and no standard input;
    /// `environment` is added to the test's own, less $MNIST_DATA_DIR.
    init(_ arguments: [String], environment: [String: String] = [:], executable: URL = CommandRun.executable) throws {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("run-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let outputURL = scratch.appendingPathComponent("stdout"), errorURL = scratch.appendingPathComponent("stderr")
        try Data().write(to: outputURL)
        try Data().write(to: errorURL)
        let process = Process()
        process.executableURL = executable
        process.standardInput = FileHandle.nullDevice
        process.arguments = arguments
        var processEnvironment = ProcessInfo.processInfo.environment
        processEnvironment[DataDirectory.environmentVariable] = nil
        processEnvironment.merge(environment) { $1 }
        process.environment = processEnvironment
        process.standardOutput = try FileHandle(forWritingTo: outputURL)
        process.standardError = try FileHandle(forWritingTo: errorURL)
        try process.run()
        process.waitUntilExit()
        status = process.terminationStatus
        standardOutput = try String(contentsOf: outputURL, encoding: .utf8)
        standardError = try String(contentsOf: errorURL, encoding: .utf8)
    }
}

struct CommandLineTests {
    @Test(.enabled(if: RealMNIST.directory != nil, RealMNIST.unavailableReason))
    func defaultTrainingReachesNinetyTwoPercentOnRealMNISTEndToEnd() throws {
        let data = try #require(RealMNIST.directory)
        let work = try makeScratchDirectory()
        defer { removeScratchDirectory(work) }
        let modelPath = work + "/model.safetensors"

        let train = try CommandRun(["train", "--data-dir", data, "--model", modelPath])
        #expect(train.status == 0, "train failed: \(train.standardError)")
        let epochLines = train.standardOutput.split(separator: "\n").filter { $0.first == " " }
        #expect(epochLines.count == TrainingConfiguration().epochs, "\(train.standardOutput)")

        let evaluate = try CommandRun(["evaluate", "--data-dir", data, "--model", modelPath, "--json"])
        #expect(evaluate.status == 0, "evaluate failed: \(evaluate.standardError)")
        let report = try #require(
            try JSONSerialization.jsonObject(with: Data(evaluate.standardOutput.utf8)) as? [String: Any])
        let accuracy = try #require(report["accuracy"] as? Double)
        #expect(accuracy >= 0.925, "test accuracy \(accuracy)")
        let confusion = try #require(report["confusion_matrix"] as? [[Int]])
        #expect(confusion.count == 10 && confusion.allSatisfy { $0.count == 10 })
        #expect(confusion.joined().reduce(0, +) == 10_000)
        #expect(abs(Double(confusion.indices.map { confusion[$0][$0] }.reduce(0, +)) / 10_000 - accuracy) < 1e-12)
        let perClass = try #require(report["per_class"] as? [[String: Any]])
        #expect(perClass.count == 10)
        #expect(perClass.compactMap { $0["support"] as? Int }.reduce(0, +) == 10_000)
        #expect((report["loss"] as? Double).map { $0 > 0.1 && $0 < 0.5 } == true)

        let stored = try SafeTensorsFile.read(modelPath)
        #expect(stored.metadata["train_images_sha256"] == MNISTFile.trainImages.sha256)
        #expect(stored.metadata["train_labels_sha256"] == MNISTFile.trainLabels.sha256)
        #expect(stored.metadata["test_accuracy"].flatMap(Double.init) == accuracy)

        let export = try CommandRun(["export-weights", "--model", modelPath, "--output-dir", work + "/png"])
        #expect(export.status == 0, "export failed: \(export.standardError)")
        let pngs = try FileManager.default.contentsOfDirectory(atPath: work + "/png").sorted()
        #expect(pngs == (0 ..< 10).map { "class-\($0).png" } + ["templates.png"])
        let template = try PNGFile.read(work + "/png/class-0.png")
        #expect(template.width == 28 * 8 && template.height == 28 * 8)
    }

    @Test(arguments: [
        ["train", "--epochs", "0"],
        ["train", "--learning-rate", "-1"],
        ["train", "--no-such-option"],
        ["export-weights"],
        ["evaluate", "--model", "m.safetensors", "--images", "x"],
        ["export-weights", "--model", "m", "--output-dir", "o", "--scale", "0"],
        ["export-weights", "--model", "m", "--output-dir", "o", "--scaling", "sideways"],
        ["export-weights", "--model", "m", "--output-dir", "o", "--percentile", "0"],
        ["export-weights", "--model", "m", "--output-dir", "o", "--percentile", "100.5"],
        ["export-weights", "--model", "m", "--output-dir", "o", "--scaling", "max", "--percentile", "99"],
    ])
    func usageErrorsExitWithStatus64(arguments: [String]) throws {
        let run = try CommandRun(arguments)
        #expect(run.status == 64, "\(arguments): \(run.standardError)")
        #expect(run.standardOutput.isEmpty)
    }

    /// A model trained with --deskew and --loss mse records both; evaluate applies the deskew
    /// and reports the same test accuracy as train did, without being told.
    @Test func evaluateAppliesTheDeskewingAndLossRecordedAtTraining() throws {
        try withTemporaryDirectory { directory in
            let train = try blockDataset(count: 300, seed: 11), test = try blockDataset(count: 100, seed: 12)
            for (split, data) in [(MNISTSplit.train, train), (.test, test)] {
                _ = try writeIDX(
                    IDXArray(dimensions: [data.count, 28, 28], elements: .uint8(data.pixels)),
                    named: split.imagesFile.name, in: directory)
                _ = try writeIDX(
                    IDXArray(dimensions: [data.count], elements: .uint8(data.labels)), named: split.labelsFile.name,
                    in: directory)
            }
            let model = directory + "/m.safetensors"
            let trained = try CommandRun([
                "train", "--data-dir", directory, "--model", model, "--deskew", "--loss", "mse",
                "--epochs", "3", "--json",
            ])
            #expect(trained.status == 0, "\(trained.standardError)")
            let summary = try #require(
                trained.standardOutput.split(separator: "\n").last.flatMap {
                    try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
                })
            let evaluated = try CommandRun(["evaluate", "--data-dir", directory, "--model", model, "--json"])
            #expect(evaluated.status == 0, "\(evaluated.standardError)")
            let report = try #require(
                try JSONSerialization.jsonObject(with: Data(evaluated.standardOutput.utf8)) as? [String: Any])
            #expect(report["preprocessing"] as? String == "deskew" && report["loss_function"] as? String == "mse")
            #expect(evaluated.standardError.contains("deskew"), "\(evaluated.standardError)")
            let accuracy = try #require(report["accuracy"] as? Double)
            #expect(
                accuracy == summary["test_accuracy"] as? Double && accuracy > 0.5,
                "evaluate \(accuracy) vs train \(summary)")
            #expect((report["loss"] as? Double) == summary["test_loss"] as? Double)
        }
    }

    @Test(arguments: [
        ["--optimizer", "lbfgs", "--epochs", "3"],
        ["--optimizer", "lbfgs", "--nesterov"],
        ["--max-iterations", "10"],
        ["--patience", "2"],
        ["--schedule", "cosine", "--learning-rate-decay", "0.5"],
        ["--loss", "hinge"],
    ])
    func conflictingTrainingOptionsAreUsageErrors(arguments: [String]) throws {
        let run = try CommandRun(["train"] + arguments)
        #expect(run.status == 64, "\(arguments): \(run.standardError)")
        #expect(!run.standardError.isEmpty && run.standardOutput.isEmpty)
    }

    @Test func missingDataExitsWithStatus1AndNamesTheFetchCommand() throws {
        let empty = try makeScratchDirectory()
        defer { removeScratchDirectory(empty) }
        let run = try CommandRun(["train", "--data-dir", empty, "--model", empty + "/m.safetensors"])
        #expect(run.status == 1)
        #expect(run.standardError.contains("mnist-softmax fetch --data-dir \(empty)"), "\(run.standardError)")
        #expect(!FileManager.default.fileExists(atPath: empty + "/m.safetensors"))
    }

    @Test func dataDirectoryComesFromTheEnvironmentWhenNotGiven() throws {
        let empty = try makeScratchDirectory()
        defer { removeScratchDirectory(empty) }
        let run = try CommandRun(["train"], environment: [DataDirectory.environmentVariable: empty])
        #expect(run.status == 1)
        #expect(run.standardError.contains(empty), "\(run.standardError)")
    }

    @Test func unreadableModelFileExitsWithStatus1AndNamesTheFile() throws {
        let work = try makeScratchDirectory()
        defer { removeScratchDirectory(work) }
        let path = work + "/broken.safetensors"
        try FileIO.writeAtomically(Array("<html>not a model</html>".utf8), to: path)
        let run = try CommandRun(["export-weights", "--model", path, "--output-dir", work + "/png"])
        #expect(run.status == 1)
        #expect(run.standardError.contains(path), "\(run.standardError)")
    }
}
