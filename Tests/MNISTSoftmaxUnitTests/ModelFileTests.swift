import Foundation
import MNISTSoftmax
import MNISTSoftmaxTestSupport
import Testing

/// safetensors: round trip, files from other tools, and every malformation the reader checks.
struct ModelFileTests {
    static func sampleModel() -> SoftmaxModel {
        var generator = SeededGenerator(seed: 7)
        let weights = (0 ..< 7840).map { _ in Float(generator.next(below: 2001) - 1000) / 1000 }
        let bias = (0 ..< 10).map { Float($0) - 4.5 }
        return SoftmaxModel(weights: weights, bias: bias)
    }

    static func expectProblem(_ bytes: [UInt8], _ expected: ModelFileError.Problem) {
        #expect(throws: ModelFileError(path: "m.safetensors", problem: expected)) {
            try SafeTensorsFile.decode(bytes, path: "m.safetensors")
        }
    }

    @Test func roundTripKeepsWeightsBiasAndMetadataExactly() throws {
        let stored = StoredModel(model: Self.sampleModel(), metadata: ["seed": "42", "note": "a/b \"quoted\""])
        let bytes = SafeTensorsFile.encode(stored)
        let headerLength = bytes.withUnsafeBytes { Int(UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self))) }
        #expect(headerLength % 8 == 0)
        #expect(bytes.count == 8 + headerLength + 7850 * 4)
        let decoded = try SafeTensorsFile.decode(bytes, path: "m.safetensors")
        #expect(decoded.model == stored.model)
        #expect(decoded.metadata["seed"] == "42")
        #expect(decoded.metadata["note"] == "a/b \"quoted\"")
        #expect(decoded.metadata["format_version"] == String(SafeTensorsFile.formatVersion))
    }

    @Test func fileFromAnotherToolWithBiasFirstAndNoMetadataLoads() throws {
        let model = Self.sampleModel()
        let bytes = safetensorsBytes(
            header: [
                "bias": ["dtype": "F32", "shape": [10], "data_offsets": [0, 40]],
                "weight": ["dtype": "F32", "shape": [10, 784], "data_offsets": [40, 31400]],
            ],
            data: littleEndianBytes(model.bias + model.weights))
        let decoded = try SafeTensorsFile.decode(bytes, path: "other.safetensors")
        #expect(decoded.model == model)
        #expect(decoded.metadata.isEmpty)
    }

    @Test func writeThenReadThroughTheFileSystem() throws {
        let directory = try makeScratchDirectory()
        defer { removeScratchDirectory(directory) }
        let path = directory + "/model.safetensors"
        let stored = StoredModel(model: Self.sampleModel(), metadata: ["epochs": "3"])
        try SafeTensorsFile.write(stored, to: path)
        #expect(try SafeTensorsFile.read(path).model == stored.model)
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory) == ["model.safetensors"])
    }

    @Test func truncatedFileIsRejected() {
        let bytes = SafeTensorsFile.encode(StoredModel(model: Self.sampleModel()))
        Self.expectProblem(Array(bytes.prefix(5)), .truncated(size: 5))
        Self.expectProblem(Array(bytes.dropLast(4)), .dataLengthMismatch(expected: 31400, actual: 31396))
        Self.expectProblem(
            Array(bytes.prefix(40)), .headerPastEnd(length: UInt64(bytes.count - 8 - 31400), fileSize: 40))
    }

    @Test func trailingBytesAreRejected() {
        let bytes = SafeTensorsFile.encode(StoredModel(model: Self.sampleModel())) + [0, 0, 0, 0]
        Self.expectProblem(bytes, .dataLengthMismatch(expected: 31400, actual: 31404))
    }

    @Test func oversizedHeaderLengthIsRejectedBeforeReading() {
        let length = UInt64(SafeTensorsFile.maximumHeaderLength + 1)
        let bytes = withUnsafeBytes(of: length.littleEndian) { [UInt8]($0) } + [UInt8](repeating: 0x20, count: 16)
        Self.expectProblem(bytes, .headerTooLarge(length: length, maximum: SafeTensorsFile.maximumHeaderLength))
    }

    @Test func wrongShapeDtypeMissingAndExtraTensorsAreRejected() {
        let model = Self.sampleModel()
        let data = littleEndianBytes(model.weights + model.bias)
        let bias: [String: Any] = ["dtype": "F32", "shape": [10], "data_offsets": [31360, 31400]]
        Self.expectProblem(
            safetensorsBytes(
                header: ["weight": ["dtype": "F32", "shape": [784, 10], "data_offsets": [0, 31360]], "bias": bias],
                data: data),
            .wrongShape(name: "weight", found: [784, 10], expected: [10, 784]))
        Self.expectProblem(
            safetensorsBytes(
                header: ["weight": ["dtype": "F16", "shape": [10, 784], "data_offsets": [0, 31360]], "bias": bias],
                data: data),
            .wrongDtype(name: "weight", found: "F16"))
        Self.expectProblem(
            safetensorsBytes(
                header: ["bias": ["dtype": "F32", "shape": [10], "data_offsets": [0, 40]]],
                data: littleEndianBytes(model.bias)),
            .missingTensor(name: "weight"))
        Self.expectProblem(
            safetensorsBytes(
                header: [
                    "weight": ["dtype": "F32", "shape": [10, 784], "data_offsets": [0, 31360]], "bias": bias,
                    "extra": ["dtype": "F32", "shape": [1], "data_offsets": [31400, 31404]],
                ],
                data: data + [0, 0, 0, 0]),
            .unexpectedTensor(name: "extra"))
    }

    @Test func gapsAndOverlapsInDataOffsetsAreRejected() {
        let model = Self.sampleModel()
        Self.expectProblem(
            safetensorsBytes(
                header: [
                    "weight": ["dtype": "F32", "shape": [10, 784], "data_offsets": [0, 31360]],
                    "bias": ["dtype": "F32", "shape": [10], "data_offsets": [31364, 31404]],
                ],
                data: littleEndianBytes(model.weights + [0] + model.bias)),
            .nonContiguousOffsets(name: "bias", begin: 31364, expected: 31360))
    }

    @Test func invalidJSONNonFiniteValuesAndNewerFormatsAreRejected() {
        let junk: [UInt8] = Array("{not json".utf8)
        Self.expectProblem(
            withUnsafeBytes(of: UInt64(junk.count).littleEndian) { [UInt8]($0) } + junk,
            .invalidJSON(reason: "not valid JSON: invalid value around character 1"))

        var model = Self.sampleModel()
        model.weights[123] = .nan
        Self.expectProblem(
            SafeTensorsFile.encode(StoredModel(model: model)), .nonFiniteValue(name: "weight", index: 123))

        let newer = safetensorsBytes(
            header: [
                "__metadata__": ["format_version": "2"],
                "weight": ["dtype": "F32", "shape": [10, 784], "data_offsets": [0, 31360]],
                "bias": ["dtype": "F32", "shape": [10], "data_offsets": [31360, 31400]],
            ],
            data: littleEndianBytes(Self.sampleModel().weights + Self.sampleModel().bias))
        Self.expectProblem(newer, .newerFormat(version: "2", supported: SafeTensorsFile.formatVersion))
    }
}
