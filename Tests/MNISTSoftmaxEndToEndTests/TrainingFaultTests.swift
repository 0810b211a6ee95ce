#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import MNISTSoftmax
import MNISTSoftmaxTestSupport
import Testing

/// A data folder with the four MNIST file names holding the synthetic block task: `trainCount`
/// training and 100 test images, raw IDX.
func writeBlockDataDirectory(in directory: String, trainCount: Int) throws -> String {
    let data = directory + "/data"
    try FileIO.createDirectory(data)
    for (split, count, seed) in [(MNISTSplit.train, trainCount, UInt64(1)), (.test, 100, 2)] {
        let set = try blockDataset(count: count, seed: seed)
        try writeIDX(
            IDXArray(dimensions: [count, 28, 28], elements: .uint8(set.pixels)), named: split.imagesFile.name, in: data)
        try writeIDX(
            IDXArray(dimensions: [count], elements: .uint8(set.labels)), named: split.labelsFile.name, in: data)
    }
    return data
}

/// Files whose names mark an unfinished atomic write, anywhere under `directory`.
func temporaryFiles(under directory: String) throws -> [String] {
    try FileManager.default.subpathsOfDirectory(atPath: directory).filter { $0.contains(".tmp-") }
}

/// Divergence and interruption through the real executable.
struct TrainingFaultTests {
    @Test func hugeLearningRateStopsTrainWithStatus1AndLeavesThePreviousModelUntouched() throws {
        let work = try makeScratchDirectory()
        defer { removeScratchDirectory(work) }
        let data = try writeBlockDataDirectory(in: work, trainCount: 500)
        let modelPath = work + "/model.safetensors"
        let previous = SafeTensorsFile.encode(StoredModel(model: randomModel(scale: 0.1, seed: 5)))
        try FileIO.writeAtomically(previous, to: modelPath)

        let run = try CommandRun([
            "train", "--data-dir", data, "--model", modelPath, "--learning-rate", "1e30", "--batch-size", "10",
        ])
        #expect(run.status == 1)
        #expect(run.standardError.contains("training diverged at epoch 1, batch "), "\(run.standardError)")
        #expect(run.standardError.contains("the loss is not finite (learning rate 1e+30)"), "\(run.standardError)")
        // One hint, in the command line's terms (the library's own, "a smaller learning rate", is replaced).
        let hints = run.standardError.split(separator: "\n").filter { $0.hasPrefix("HINT:") }
        #expect(hints == ["HINT: try a smaller --learning-rate, such as 1e+29"], "\(run.standardError)")
        #expect(try FileIO.readAll(modelPath) == previous)
        #expect(try temporaryFiles(under: work).isEmpty)
    }

    @Test func missingTestImagesStopTrainBeforeTheFirstEpoch() throws {
        let work = try makeScratchDirectory()
        defer { removeScratchDirectory(work) }
        let data = try writeBlockDataDirectory(in: work, trainCount: 500)
        try FileManager.default.removeItem(atPath: data + "/" + MNISTFile.testImages.name)
        let modelPath = work + "/model.safetensors"

        let run = try CommandRun(["train", "--data-dir", data, "--model", modelPath])
        #expect(run.status == 1)
        #expect(
            run.standardError.contains("no t10k-images-idx3-ubyte or t10k-images-idx3-ubyte.gz in the data directory"),
            "\(run.standardError)")
        #expect(!run.standardError.contains("epoch 1/"), "\(run.standardError)")
        #expect(!FileManager.default.fileExists(atPath: modelPath))
    }

    /// The test set is read after training (so that its pixels and the training pixels are never
    /// resident together); a test file that turns out broken then still leaves nothing behind.
    @Test func truncatedTestImagesStopTrainAfterTrainingAndLeaveThePreviousModelUntouched() throws {
        let work = try makeScratchDirectory()
        defer { removeScratchDirectory(work) }
        let data = try writeBlockDataDirectory(in: work, trainCount: 500)
        let testImages = data + "/" + MNISTFile.testImages.name
        let whole = try FileIO.readAll(testImages)
        try FileIO.writeAtomically(Array(whole.prefix(whole.count - 100)), to: testImages)
        let modelPath = work + "/model.safetensors"
        let previous = SafeTensorsFile.encode(StoredModel(model: randomModel(scale: 0.1, seed: 5)))
        try FileIO.writeAtomically(previous, to: modelPath)

        let run = try CommandRun(["train", "--data-dir", data, "--model", modelPath, "--epochs", "1"])
        #expect(run.status == 1)
        #expect(run.standardError.contains("epoch 1/1"), "\(run.standardError)")
        #expect(run.standardError.contains(testImages), "\(run.standardError)")
        #expect(run.standardError.contains("truncated"), "\(run.standardError)")
        #expect(try FileIO.readAll(modelPath) == previous)
        #expect(try temporaryFiles(under: work).isEmpty)
    }

    struct Interruption: Sendable, CustomTestStringConvertible {
        let signal: Int32
        let name: String
        let status: Int32
        /// Whether a model file from an earlier run is already in place.
        let previousModel: Bool
        var testDescription: String { "\(name)\(previousModel ? " over an earlier model" : "")" }
    }

    @Test(arguments: [
        Interruption(signal: SIGINT, name: "SIGINT", status: 130, previousModel: false),
        Interruption(signal: SIGTERM, name: "SIGTERM", status: 143, previousModel: true),
    ])
    func stopSignalEndsTrainingAtABatchBoundaryWritingNothing(_ interruption: Interruption) throws {
        let work = try makeScratchDirectory()
        defer { removeScratchDirectory(work) }
        let data = try writeBlockDataDirectory(in: work, trainCount: 3000)
        let modelPath = work + "/model.safetensors"
        let previous = SafeTensorsFile.encode(StoredModel(model: randomModel(scale: 0.1, seed: 6)))
        if interruption.previousModel { try FileIO.writeAtomically(previous, to: modelPath) }

        // Enough epochs to run for hours: only the signal can end it in time.
        let command = try BackgroundCommand([
            "train", "--data-dir", data, "--model", modelPath, "--epochs", "1000000",
            "--threads", "2",
        ])
        try #require(
            command.waitForStandardError(containing: "training on", seconds: 30), "\(command.standardErrorSoFar)")
        usleep(300_000)
        kill(command.process.processIdentifier, interruption.signal)
        // A stop at the next batch boundary takes milliseconds; 60 s means it never came.
        let result = try command.finish(within: 60)

        #expect(result.reason == .exit, "killed by the signal instead of stopping")
        #expect(result.status == interruption.status, "\(result.standardError)")
        #expect(
            result.standardError.contains(
                "\(modelPath): not written: \(interruption.name) stopped training during epoch "),
            "\(result.standardError)")
        #expect(result.standardOutput.contains("epoch"), "training had not started: \(result.standardOutput)")
        if interruption.previousModel {
            #expect(try FileIO.readAll(modelPath) == previous)
        } else {
            #expect(!FileManager.default.fileExists(atPath: modelPath))
        }
        #expect(try temporaryFiles(under: work).isEmpty)
    }
}
