import Foundation
import MNISTSoftmax
import MNISTSoftmaxTestSupport
import Testing

// MARK: - The protobuf writer, byte for byte

@Test func protobufVarintsMatchTheSpecificationsExamples() {
    // protobuf.dev/programming-guides/encoding: field 1 = 150 is 08 96 01.
    var writer = ProtobufWriter()
    writer.writeInteger(1, 150)
    #expect(writer.bytes == [0x08, 0x96, 0x01])

    // One-byte, two-byte and 64-bit boundaries.
    for (value, expected) in [
        (Int64(0), [UInt8(0x00)]), (127, [0x7F]), (128, [0x80, 0x01]), (784, [0x90, 0x06]),
        (Int64.max, [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F]),
    ] {
        var one = ProtobufWriter()
        one.writeInteger(2, value)
        #expect(one.bytes == [0x10] + expected, "value \(value)")
    }
}

@Test func negativeIntegersTakeTenBytesAsTwosComplement() {
    var writer = ProtobufWriter()
    writer.writeInteger(3, -1)
    #expect(writer.bytes == [0x18] + [UInt8](repeating: 0xFF, count: 9) + [0x01])
}

@Test func fieldNumbersAbove15TakeATwoByteKey() {
    // AttributeProto.type is field 20: key 20 << 3 | 0 = 160 = A0 01.
    var writer = ProtobufWriter()
    writer.writeInteger(20, 2)
    #expect(writer.bytes == [0xA0, 0x01, 0x02])
}

@Test func stringsAndNestedMessagesAreLengthPrefixed() {
    // The specification's examples: field 2 = "testing" is 12 07 74 65 73 74 69 6e 67, and
    // message field 3 holding {1: 150} is 1a 03 08 96 01.
    var text = ProtobufWriter()
    text.writeString(2, "testing")
    #expect(text.bytes == [0x12, 0x07, 0x74, 0x65, 0x73, 0x74, 0x69, 0x6E, 0x67])

    var nested = ProtobufWriter()
    nested.writeMessage(3) { $0.writeInteger(1, 150) }
    #expect(nested.bytes == [0x1A, 0x03, 0x08, 0x96, 0x01])

    // A length of 300 bytes needs a two-byte varint, AC 02.
    var long = ProtobufWriter()
    long.writeBytes(1, [UInt8](repeating: 7, count: 300))
    #expect(Array(long.bytes.prefix(3)) == [0x0A, 0xAC, 0x02] && long.bytes.count == 303)
}

// MARK: - The ONNX messages

@Test func anIntegerAttributeEncodesNameValueAndTypeInt() {
    // AttributeProto { name: "axis" (1), i: -1 (3), type: INT = 2 (20) }
    var writer = ProtobufWriter()
    ONNX.Attribute(name: "axis", integer: -1).encode(into: &writer)
    #expect(
        writer.bytes == [0x0A, 0x04] + Array("axis".utf8) + [0x18] + [UInt8](repeating: 0xFF, count: 9) + [
            0x01, 0xA0, 0x01, 0x02,
        ])
}

@Test func aValueInfoEncodesADynamicAndAFixedDimension() {
    // ValueInfoProto { name: "x", type: TypeProto { tensor_type: { elem_type: FLOAT, shape: {
    //   dim { dim_param: "N" }, dim { dim_value: 784 } } } } }
    var writer = ProtobufWriter()
    ONNX.ValueInfo(name: "x", shape: [.symbol("N"), .size(784)]).encode(into: &writer)
    let shape: [UInt8] = [0x0A, 0x03, 0x12, 0x01, 0x4E, 0x0A, 0x03, 0x08, 0x90, 0x06]
    let tensorType: [UInt8] = [0x08, 0x01, 0x12, UInt8(shape.count)] + shape
    let type: [UInt8] = [0x0A, UInt8(tensorType.count)] + tensorType
    #expect(writer.bytes == [0x0A, 0x01, 0x78, 0x12, UInt8(type.count)] + type)
}

@Test func aFloatTensorStoresDimsTypeNameAndLittleEndianRawData() {
    // TensorProto { dims: 2 (1), data_type: FLOAT (2), name: "b" (8), raw_data (9) }
    var writer = ProtobufWriter()
    ONNX.Tensor(name: "b", dimensions: [2], values: [1, -2.5]).encode(into: &writer)
    #expect(
        writer.bytes == [
            0x08, 0x02, 0x10, 0x01, 0x42, 0x01, 0x62, 0x4A, 0x08,
            0x00, 0x00, 0x80, 0x3F, 0x00, 0x00, 0x20, 0xC0,
        ])
}

@Test func aNodeListsInputsOutputsNameTypeAndAttributes() {
    var writer = ProtobufWriter()
    ONNX.Node(opType: "Sigmoid", name: "s", inputs: ["z"], outputs: ["p"], attributes: []).encode(into: &writer)
    #expect(writer.bytes == [0x0A, 0x01, 0x7A, 0x12, 0x01, 0x70, 0x1A, 0x01, 0x73, 0x22, 0x07] + Array("Sigmoid".utf8))
}

// MARK: - The exported graph

/// A model with distinct recognisable parameters: W_kd = k + d/1000, b_k = −k.
private func labelledModel(metadata: [String: String]) -> StoredModel {
    let weights = (0 ..< 10 * 784).map { (index: Int) -> Float in Float(index / 784) + Float(index % 784) / 1000 }
    return StoredModel(
        model: SoftmaxModel(weights: weights, bias: (0 ..< 10).map { (k: Int) -> Float in -Float(k) }),
        metadata: metadata)
}

@Test func theGraphIsGemmWithTransposedWeightsThenSoftmaxAtOpset13() {
    let stored = labelledModel(metadata: [
        "loss": "softmax-ce", "l2": "0.0001", "format": "mnist-softmax", "format_version": "1",
    ])
    let onnx = ONNXExport.model(for: stored)
    #expect(onnx.irVersion == 7 && onnx.operatorSets == [ONNX.OperatorSet(domain: "", version: 13)])
    #expect(onnx.graph.nodes.map(\.opType) == ["Gemm", "Softmax"])
    #expect(onnx.graph.nodes[0].inputs == ["pixels", "weight", "bias"] && onnx.graph.nodes[0].outputs == ["logits"])
    #expect(onnx.graph.nodes[0].attributes == [ONNX.Attribute(name: "transB", integer: 1)])
    #expect(onnx.graph.nodes[1].inputs == ["logits"] && onnx.graph.nodes[1].outputs == ["probabilities"])
    #expect(onnx.graph.nodes[1].attributes == [ONNX.Attribute(name: "axis", integer: -1)])
    #expect(
        onnx.graph.initializers == [
            ONNX.Tensor(name: "weight", dimensions: [10, 784], values: stored.model.weights),
            ONNX.Tensor(name: "bias", dimensions: [10], values: stored.model.bias),
        ])
    #expect(onnx.graph.inputs == [ONNX.ValueInfo(name: "pixels", shape: [.symbol("N"), .size(784)])])
    #expect(onnx.graph.outputs.map(\.name) == ["logits", "probabilities"])
    #expect(onnx.graph.outputs.allSatisfy { $0.shape == [.symbol("N"), .size(10)] })

    let metadata = Dictionary(uniqueKeysWithValues: onnx.metadata.map { ($0.key, $0.value) })
    #expect(metadata["producer"] == "mnist-softmax" && metadata["l2"] == "0.0001" && metadata["loss"] == "softmax-ce")
    #expect(metadata["preprocessing"] == "none" && metadata["input"]!.contains("x = pixel / 255"))
    #expect(
        metadata["format"] == nil && metadata["format_version"] == nil,
        "the safetensors format keys describe the other file")
    #expect(
        onnx.metadata.map(\.key) == onnx.metadata.map(\.key).sorted(), "sorted: the bytes depend on the model alone")
}

@Test func aDeskewModelSaysItsInputMustBeDeskewed() {
    let onnx = ONNXExport.model(for: labelledModel(metadata: ["preprocessing": "deskew"]))
    let metadata = Dictionary(uniqueKeysWithValues: onnx.metadata.map { ($0.key, $0.value) })
    #expect(metadata["preprocessing"] == "deskew")
    #expect(metadata["input"]!.contains("DESKEWED") && onnx.docString.contains("DESKEWED"))
}

@Test func aSigmoidCrossEntropyModelEndsInSigmoidAndMSEInSoftmax() {
    let sigmoid = ONNXExport.model(for: labelledModel(metadata: ["loss": "sigmoid-bce"]))
    #expect(sigmoid.graph.nodes.map(\.opType) == ["Gemm", "Sigmoid"] && sigmoid.graph.nodes[1].attributes.isEmpty)
    #expect(sigmoid.metadata.contains { $0.key == "probabilities" && $0.value.hasPrefix("sigmoid(logits)") })
    let quadratic = ONNXExport.model(for: labelledModel(metadata: ["loss": "mse"]))
    #expect(quadratic.graph.nodes.map(\.opType) == ["Gemm", "Softmax"])
}

@Test func theFileHoldsTheWeightsAsRawLittleEndianBytesOnce() throws {
    let stored = labelledModel(metadata: [:])
    let bytes = ONNXExport.model(for: stored).serialized()
    // raw_data (field 9) of 31,360 bytes: key 4A, length varint 80 F5 01, then W row-major.
    let weightBytes = stored.model.weights.flatMap { value in
        withUnsafeBytes(of: value.bitPattern.littleEndian, Array.init)
    }
    let header: [UInt8] = [0x4A, 0x80, 0xF5, 0x01]
    let starts = (0 ... bytes.count - header.count).filter { Array(bytes[$0 ..< $0 + header.count]) == header }
    #expect(starts.count == 1)
    let start = try #require(starts.first) + header.count
    #expect(Array(bytes[start ..< start + weightBytes.count]) == weightBytes)
    #expect(bytes.count < weightBytes.count + 2_000, "the weights and a small graph, \(bytes.count) bytes")
}

@Test func exportWritesTheFileAtomicallyAndLeavesNoTemporaryFile() throws {
    try withTemporaryDirectory { directory in
        let path = directory + "/model.onnx"
        let stored = labelledModel(metadata: [:])
        try ONNXExport.write(stored, to: path)
        #expect(try FileIO.readAll(path) == ONNXExport.model(for: stored).serialized())
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory) == ["model.onnx"])
    }
}
