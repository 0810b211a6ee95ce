import Foundation
import MNISTSoftmax
import MNISTSoftmaxTestSupport
import Testing

/// `TrainingProvenance` is the one source of the model file's metadata keys and of a checkpoint's
/// settings.
struct ProvenanceTests {
    static func provenance(_ schedule: LearningRateSchedule) -> TrainingProvenance {
        var configuration = TrainingConfiguration()
        configuration.schedule = schedule
        configuration.threads = 7
        return TrainingProvenance(
            configuration: configuration, preprocessing: .deskew, trainingSamples: 50_000,
            validationSamples: 10_000, trainingDigests: ("ab", "cd"))
    }

    /// Every setting a checkpoint records is in the model file with the same value, and every key
    /// of either is a `ModelMetadataKey`; the file records the thread cap, not the count asked for.
    @Test(arguments: LearningRateSchedule.allCases)
    func checkpointSettingsAreTheModelFilesSettings(schedule: LearningRateSchedule) {
        let provenance = Self.provenance(schedule)
        let (settings, metadata) = (provenance.checkpointSettings, provenance.metadata)
        let keys = Set(ModelMetadataKey.allCases.map(\.rawValue))
        for (key, value) in settings {
            #expect(
                metadata[key] == value,
                "\(schedule): checkpoint \(key) = \(value), model file \(metadata[key] ?? "missing")")
        }
        #expect(
            Set(metadata.keys).subtracting(keys).isEmpty,
            "\(schedule): keys outside Key: \(Set(metadata.keys).subtracting(keys))")
        #expect(
            settings["train_images_sha256"] == "ab" && settings["preprocessing"] == "deskew"
                && settings["validation_samples"] == "10000")
        #expect(settings["threads"] == nil && metadata["threads"] == "2")
        #expect((settings["learning_rate_decay"] != nil) == (schedule == .step))
        #expect((settings["epochs"] != nil) == (schedule == .cosine))
    }

    /// docs/model-file.md lists every key.
    @Test func theModelFileDocumentListsEveryKey() throws {
        let document = try String(contentsOfFile: packageRoot + "/docs/model-file.md", encoding: .utf8)
        let missing = ModelMetadataKey.allCases.filter { !document.contains("`\($0.rawValue)`") }
        #expect(missing.isEmpty, "docs/model-file.md does not list \(missing.map(\.rawValue))")
    }
}
