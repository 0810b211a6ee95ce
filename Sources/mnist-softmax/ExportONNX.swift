import ArgumentParser
import MNISTSoftmax

struct ExportONNX: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export-onnx",
        abstract: "Write the model as an ONNX file (opset 13) for onnxruntime and other ONNX tools.",
        discussion: """
            The graph is Gemm (weight [10, 784] with transB = 1, bias [10]) then Softmax over the last axis: \
            input "pixels" float32 [N, 784] with x = pixel / 255, outputs "logits" and "probabilities" [N, 10], \
            N dynamic. A sigmoid-bce model ends in Sigmoid instead, the per-class probabilities it was trained \
            to give. The metadata holds the training settings and the preprocessing; a model trained with \
            --deskew expects deskewed images, which the graph does not do itself. Prints the path written.
            """)

    @Option(help: ArgumentHelp("Model file (safetensors) to export.", valueName: "file"))
    var model: String

    @Option(help: ArgumentHelp("The ONNX file to write (atomically).", valueName: "file.onnx"))
    var output: String

    func validate() throws {
        guard output != model else {
            throw ValidationError("--output names the model file itself; choose another path")
        }
    }

    func run() throws {
        try FileIO.requireWritableTarget(output)
        let stored = try SafeTensorsFile.read(model)
        if stored.preprocessing == .deskew {
            printDiagnostic(
                "note: \(model) was trained on deskewed images: the ONNX graph expects DESKEWED input "
                    + "(x = deskewed pixel / 255) and does not deskew; the metadata records it")
        }
        if stored.lossFunction == .sigmoidBinaryCrossEntropy {
            printDiagnostic(
                "note: a sigmoid-bce model: \"probabilities\" = sigmoid(logits), one per class, not a softmax")
        }
        try ONNXExport.write(stored, to: output)
        print(output)
    }
}
