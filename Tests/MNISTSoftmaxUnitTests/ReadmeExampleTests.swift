import Foundation
import MNISTSoftmaxTestSupport
import Testing

// The README's library example, compiled and run here on a tiny data folder; a test below checks
// that the README shows exactly these lines.
// README example begins
import MNISTSoftmax

/// Trains on the MNIST files in `dataDirectory`, saves the model (with its settings, data digests
/// and per-epoch history as metadata) and draws its templates into `outputDirectory`, and returns
/// the test accuracy.
func trainAndDraw(dataDirectory: String, outputDirectory: String) throws -> Double {
    let data = DataDirectory(path: dataDirectory)
    let (training, test) = (try data.load(.train), try data.load(.test))
    var configuration = TrainingConfiguration()  // the CLI's defaults: SGD, 10 epochs, seed 42
    configuration.epochs = 5
    let trained = try SoftmaxTrainer(configuration: configuration).run(on: training)
    let evaluation = Evaluation(of: trained.model, on: test)
    try SafeTensorsFile.write(StoredModel(trained, test: evaluation), to: outputDirectory + "/model.safetensors")
    let templates = outputDirectory + "/templates"
    try WeightTemplates.write(trained.model, toDirectory: templates, scaling: .percentile, percentile: 99.5)
    return evaluation.accuracy
}
// README example ends

struct ReadmeExampleTests {
    @Test func theReadmeLibraryExampleTrainsSavesAndDraws() throws {
        let data = try makeScratchDirectory("readme-example")
        defer { removeScratchDirectory(data) }
        try writeDataDirectory(
            train: blockDataset(count: 600, seed: 1), test: blockDataset(count: 100, seed: 2), to: data)
        let accuracy = try trainAndDraw(dataDirectory: data, outputDirectory: data)
        #expect(accuracy > 0.9, "\(accuracy)")
        let stored = try SafeTensorsFile.read(data + "/model.safetensors")
        #expect(stored.model.weights.contains { $0 != 0 })
        #expect(FileManager.default.fileExists(atPath: data + "/templates/templates.png"))
        // The library's save path records the provenance, as `train` does.
        let digests = try DataDirectory(path: data).load(.train).contentDigests()
        let expected = [
            "optimizer": "sgd", "loss": "softmax-ce", "seed": "42", "epochs": "5", "epochs_run": "5",
            "batch_size": "100",
            "learning_rate": "0.4", "learning_rate_decay": "0.6", "training_samples": "600", "validation_samples": "0",
            "test_accuracy": String(accuracy), "train_images_sha256": digests.images,
            "train_labels_sha256": digests.labels,
        ]
        for (key, value) in expected {
            #expect(stored.metadata[key] == value, "\(key): \(stored.metadata[key] ?? "missing"), expected \(value)")
        }
        #expect(try stored.trainingHistory()?.loss.count == 5)
    }

    @Test func theReadmeShowsTheExampleAsCompiledHere() throws {
        let source = try String(contentsOfFile: #filePath, encoding: .utf8)
        let begin = try #require(source.range(of: "// README example begins\n"))
        let end = try #require(source.range(of: "// README example ends"))
        let example = source[begin.upperBound ..< end.lowerBound]
        let readme = try String(contentsOfFile: packageRoot + "/README.md", encoding: .utf8)
        #expect(
            readme.contains("```swift\n" + example + "```\n"),
            "README.md does not show the example of \(#filePath) verbatim")
    }
}
