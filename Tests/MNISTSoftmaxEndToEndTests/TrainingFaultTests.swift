#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import MNISTSoftmax
import Testing

/// A data folder with the four MNIST file names holding the synthetic block task: `trainCount`
/// training and 100 test images, raw IDX.
func writeBlockDataDirectory(in directory: String, trainCount: Int) throws -> String {
    let data = directory + "/data"
    try FileIO.createDirectory(data)
    for (split, count, seed) in [(MNISTSplit.train, trainCount, UInt64(1)), (.test, 100, 2)] {
        let set = try blockDataset(count: count, seed: seed)
        try writeIDX(IDXArray(dimensions: [count, 28, 28], elements: .uint8(set.pixels)), named: split.imagesFile.name, in: data)
        try writeIDX(IDXArray(dimensions: [count], elements: .uint8(set.labels)), named: split.labelsFile.name, in: data)
    }
    return data
}

/// Files whose names mark an unfinished atomic write, anywhere under `directory`.
func temporaryFiles(under directory: String) throws -> [String] {
    try FileManager.default.subpathsOfDirectory(atPath: directory).filter { $0.contains(".tmp-") }
}

/// Divergence and interruption, through the library and through the real executable.
struct TrainingFaultTests {
    @Test func shouldStopIsAskedBeforeEachBatchAndStopsAtTheNextBoundary() throws {
        var configuration = blockTaskConfiguration(seed: 3)
        configuration.batchSize = 10
        let data = try blockDataset(count: 200, seed: 3) // 20 batches per epoch
        var asked = 0, epochsFinished = 0
        let error = try #require(thrownError(TrainingInterrupted.self) {
            try SoftmaxTrainer(configuration: configuration).train(on: data, afterEpoch: { _ in epochsFinished += 1 },
                                                                   shouldStop: {
                                                                       asked += 1
                                                                       return asked == 25
                                                                   })
        })
        // Asked 20 times in epoch 1, then before batches 1…5 of epoch 2: the 25th answer stops it
        // before batch 5, after 4.
        #expect(error == TrainingInterrupted(at: .epoch(2, batchesCompleted: 4)))
        #expect(epochsFinished == 1)
        #expect(error.description.contains("epoch 2, after 4"))
    }

    @Test func shouldStopEndsLBFGSAfterTheIterationItWasAskedIn() throws {
        var configuration = blockTaskConfiguration(seed: 3)
        configuration.optimizer = .lbfgs
        let data = try blockDataset(count: 200, seed: 3)
        var asked = 0, iterationsReported = 0
        let error = try #require(thrownError(TrainingInterrupted.self) {
            try SoftmaxTrainer(configuration: configuration).train(on: data, afterEpoch: { _ in iterationsReported += 1 },
                                                                   shouldStop: {
                                                                       asked += 1
                                                                       return asked == 3
                                                                   })
        })
        // Asked once per iteration, before it is reported: the third answer stops the run after
        // iteration 3, with iterations 1 and 2 reported.
        #expect(error == TrainingInterrupted(at: .iteration(3)))
        #expect(iterationsReported == 2)
        #expect(error.description == "training stopped on request after L-BFGS iteration 3")
    }

    @Test func hugeLearningRateStopsTrainWithStatus1AndLeavesThePreviousModelUntouched() throws {
        let work = try makeScratchDirectory()
        defer { removeScratchDirectory(work) }
        let data = try writeBlockDataDirectory(in: work, trainCount: 500)
        let modelPath = work + "/model.safetensors"
        let previous = SafeTensorsFile.encode(StoredModel(model: randomModel(scale: 0.1, seed: 5)))
        try FileIO.writeAtomically(previous, to: modelPath)

        let run = try CommandRun(["train", "--data-dir", data, "--model", modelPath, "--learning-rate", "1e30", "--batch-size", "10"])
        #expect(run.status == 1)
        #expect(run.standardError.contains("training diverged at epoch 1, batch "), "\(run.standardError)")
        #expect(run.standardError.contains("the loss is not finite (learning rate 1e+30)"), "\(run.standardError)")
        #expect(run.standardError.contains("HINT: try a smaller --learning-rate"), "\(run.standardError)")
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
        let command = try BackgroundCommand(["train", "--data-dir", data, "--model", modelPath, "--epochs", "1000000",
                                             "--threads", "2"])
        try #require(command.waitForStandardError(containing: "training on", seconds: 30), "\(command.standardErrorSoFar)")
        usleep(300_000)
        kill(command.process.processIdentifier, interruption.signal)
        // A stop at the next batch boundary takes milliseconds; 60 s means it never came.
        let result = try command.finish(within: 60)

        #expect(result.reason == .exit, "killed by the signal instead of stopping")
        #expect(result.status == interruption.status, "\(result.standardError)")
        #expect(result.standardError.contains("\(modelPath): not written: \(interruption.name) stopped training during epoch "),
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
