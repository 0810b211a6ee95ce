/// A model as an ONNX graph: Gemm, then Softmax (or Sigmoid), opset 13.
///
///     pixels: float32 [N, 784] ──Gemm(weight [10, 784], bias [10], transB = 1)──▶ logits [N, 10]
///     logits ──Softmax(axis = −1)──▶ probabilities [N, 10]
///
/// Gemm computes pixels · weightᵀ + bias, the tool's z = W x + b, for N images at once (N is the
/// symbolic dimension "N"). The input is x = pixel / 255 of each 28×28 image in row-major order;
/// for a model trained with deskewing, of the deskewed image, which the graph cannot do itself
/// (the metadata says so). Every model file the tool reads can be exported: the cost decides only
/// the output layer.
public enum ONNXExport {
    /// The opset of the default domain; Gemm and Softmax are as defined there.
    public static let operatorSetVersion: Int64 = 13
    /// ONNX 1.8's IR version, the first to carry opset 13.
    public static let irVersion: Int64 = 7
    public static let producerName = "mnist-softmax"
    /// The names of the graph's input and outputs.
    public static let inputName = "pixels", logitsName = "logits", probabilitiesName = "probabilities"

    /// The output layer of a model trained with `lossFunction`: softmax for softmax-ce and mse
    /// (both train p = softmax(z)); for sigmoid-bce ten independent σ(z_k), the probabilities
    /// that cost trains, which need not sum to 1. Every choice predicts argmax z.
    public static func outputOperator(for lossFunction: LossFunction) -> String {
        switch lossFunction {
        case .softmaxCrossEntropy, .softmaxQuadratic: "Softmax"
        case .sigmoidBinaryCrossEntropy: "Sigmoid"
        }
    }

    /// What a caller must do to an image before the graph, in words (metadata `input`).
    public static func inputDescription(for preprocessing: Preprocessing) -> String {
        switch preprocessing {
        case .none:
            "float32 [N, 784]: each 28×28 image in row-major order as x = pixel / 255 (0 to 1), white ink on black as in MNIST"
        case .deskew:
            "float32 [N, 784]: each 28×28 image DESKEWED by its second moments (as mnist-softmax train --deskew did), "
                + "then in row-major order as x = pixel / 255 (0 to 1); raw, not deskewed images give worse predictions"
        }
    }

    /// The ONNX model for `stored`. Its metadata holds the model file's own (the training
    /// settings, data digests and test results; not the safetensors `format` keys), then
    /// `producer`, `preprocessing` (none or deskew), `input` (what to feed, see
    /// `inputDescription`) and `probabilities` (the output layer).
    public static func model(for stored: StoredModel) -> ONNX.Model {
        let model = stored.model
        let classes = Int64(SoftmaxModel.classCount), features = Int64(SoftmaxModel.featureCount)
        let output = outputOperator(for: stored.lossFunction)
        let gemm = ONNX.Node(
            opType: "Gemm", name: "linear", inputs: [inputName, "weight", "bias"], outputs: [logitsName],
            attributes: [ONNX.Attribute(name: "transB", integer: 1)])
        let activation = ONNX.Node(
            opType: output, name: output.lowercased(), inputs: [logitsName], outputs: [probabilitiesName],
            attributes: output == "Softmax" ? [ONNX.Attribute(name: "axis", integer: -1)] : [])
        let graph = ONNX.Graph(
            name: "mnist_softmax_regression",
            nodes: [gemm, activation],
            initializers: [
                ONNX.Tensor(name: "weight", dimensions: [classes, features], values: model.weights),
                ONNX.Tensor(name: "bias", dimensions: [classes], values: model.bias),
            ],
            inputs: [ONNX.ValueInfo(name: inputName, shape: [.symbol("N"), .size(features)])],
            outputs: [
                ONNX.ValueInfo(name: logitsName, shape: [.symbol("N"), .size(classes)]),
                ONNX.ValueInfo(name: probabilitiesName, shape: [.symbol("N"), .size(classes)]),
            ])

        var metadata = stored.metadata
        metadata["format"] = nil
        metadata["format_version"] = nil
        metadata["producer"] = producerName
        metadata[StoredModel.preprocessingKey] = stored.preprocessing.rawValue
        metadata["input"] = inputDescription(for: stored.preprocessing)
        metadata["probabilities"] =
            output == "Softmax"
            ? "softmax(logits): the ten class probabilities, summing to 1"
            : "sigmoid(logits): one independent probability per class (trained with sigmoid-bce); they need not sum to 1"
        return ONNX.Model(
            irVersion: irVersion,
            operatorSets: [ONNX.OperatorSet(domain: "", version: operatorSetVersion)],
            producerName: producerName,
            docString:
                "Softmax regression on MNIST: logits = pixels · weightᵀ + bias, probabilities = \(output)(logits). "
                + "Input: " + inputDescription(for: stored.preprocessing) + ".",
            graph: graph,
            metadata: metadata.sorted { $0.key < $1.key }.map { (key: $0.key, value: $0.value) })
    }

    /// Writes the ONNX file for `stored` to `path` atomically: a failed write leaves any earlier
    /// file untouched.
    public static func write(_ stored: StoredModel, to path: String) throws {
        try FileIO.writeAtomically(model(for: stored).serialized(), to: path)
    }
}
