import Foundation
import MNISTSoftmax
import MNISTSoftmaxTestSupport
import Testing

@Suite("Checkpoints")
struct CheckpointTests {
    static let blocks = try! blockDataset(count: 300, seed: 2024)

    /// Stopping after epoch 2 and continuing from its checkpoint gives the weights of the run
    /// that never stopped, bit for bit: the velocity is restored and the shuffles replayed.
    @Test(arguments: [1, 2])
    func resumedRunEqualsUninterruptedRunBitForBit(threads: Int) throws {
        var configuration = blockTaskConfiguration(seed: 5)
        configuration.threads = threads
        let uninterrupted = try SoftmaxTrainer(configuration: configuration).train(on: Self.blocks)

        var saved: [TrainingCheckpoint] = []
        var firstLeg = configuration
        firstLeg.epochs = 2
        _ = try SoftmaxTrainer(configuration: firstLeg).run(
            on: Self.blocks, checkpoints: CheckpointPolicy(every: 2) { saved.append($0) })
        let checkpoint = try #require(saved.first)
        #expect(saved.count == 1 && checkpoint.epochsCompleted == 2)
        #expect(checkpoint.velocity.weights.contains { $0 != 0 }, "momentum has a velocity to restore")

        var epochs: [Int] = []
        let resumed = try SoftmaxTrainer(configuration: configuration).run(on: Self.blocks, resumingFrom: checkpoint) {
            epochs.append($0.epochOrIteration)
        }
        #expect(epochs == [3, 4, 5])
        #expect(
            resumed.model == uninterrupted,
            "\(zip(resumed.model.weights, uninterrupted.weights).filter { $0 != $1 }.count) weights differ")
    }

    @Test func checkpointFileRoundTripsAndIsNotMistakenForAModel() throws {
        try withTemporaryDirectory { directory in
            let path = directory + "/run.checkpoint"
            let checkpoint = TrainingCheckpoint(
                epochsCompleted: 3, model: randomModel(scale: 0.5, seed: 1),
                velocity: randomModel(scale: 0.01, seed: 2), settings: ["seed": "42"])
            try checkpoint.write(to: path)
            #expect(try TrainingCheckpoint.read(path) == checkpoint)

            let asModel = thrownError(ModelFileError.self) { try SafeTensorsFile.read(path) }
            #expect(
                asModel?.description.contains("HINT: this is a training checkpoint, not a model") == true,
                "\(asModel.map(String.init(describing:)) ?? "")")

            let modelPath = directory + "/m.safetensors"
            try SafeTensorsFile.write(StoredModel(model: SoftmaxModel()), to: modelPath)
            let asCheckpoint = thrownError(ModelFileError.self) { try TrainingCheckpoint.read(modelPath) }
            #expect(asCheckpoint?.problem == .missingTensor(name: "velocity.bias"))
            #expect(asCheckpoint?.description.contains("HINT: this is a model, not a training checkpoint") == true)
        }
    }

    @Test func settingsThatDifferAreNamed() {
        let checkpoint = TrainingCheckpoint(
            epochsCompleted: 1, model: SoftmaxModel(), velocity: SoftmaxModel(),
            settings: ["seed": "42", "threads": "2"])
        #expect(throws: Never.self) { try checkpoint.requireSettings(["seed": "42", "threads": "2"], path: "c") }
        let error = thrownError(CheckpointMismatchError.self) {
            try checkpoint.requireSettings(["seed": "7", "threads": "2"], path: "c")
        }
        #expect(error?.key == "seed" && error?.stored == "42" && error?.current == "7")
        #expect(error?.description.hasPrefix("c: the checkpoint was taken with seed = 42, this run has 7") == true)
    }
}
