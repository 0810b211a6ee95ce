import MNISTKernels

/// Precision, recall and F1 of one class, from the confusion matrix.
public struct ClassMetrics: Sendable, Equatable {
    public let label: Int
    /// TP / (TP + FP); 0 when the class is never predicted.
    public let precision: Double
    /// TP / (TP + FN); 0 when the class never occurs.
    public let recall: Double
    /// 2PR / (P + R); 0 when both are 0.
    public let f1: Double
    /// How many samples truly have this label.
    public let support: Int
}

/// How a model does on a labelled set: accuracy, mean cost, and the confusion matrix.
public struct Evaluation: Sendable, Equatable {
    /// Number of samples.
    public let count: Int
    /// Fraction of samples whose argmax z equals the label.
    public let accuracy: Double
    /// Mean cost over the samples, of the evaluation's `LossFunction` (no L2 term): −log p_y by
    /// default.
    public let meanLoss: Double
    /// (10, 10): confusion[true][predicted].
    public let confusion: [[Int]]

    /// Evaluates `model` on every sample of `data` (28×28 images), with the mean cost of
    /// `lossFunction` (the softmax cross-entropy by default). Needs a CPU that can run the kernels
    /// (`KernelCPU.verify()`).
    public init(of model: SoftmaxModel, on data: LabeledImages, lossFunction: LossFunction = .softmaxCrossEntropy) {
        precondition(data.pixelsPerImage == SoftmaxModel.featureCount, "evaluation needs 28×28 images")
        KernelCPU.requireSupport()
        let classes = SoftmaxModel.classCount
        // counts: (10, 10) row-major, [true][predicted].
        let (lossSum, counts) = model.weights.withUnsafeBufferPointer { w in
            model.bias.withUnsafeBufferPointer { b in
                data.pixels.withUnsafeBufferPointer { pixels in
                    data.labels.withUnsafeBufferPointer { labels in
                        SoftmaxKernel.evaluate(
                            weights: w.baseAddress!, bias: b.baseAddress!, pixels: pixels.baseAddress!,
                            labels: labels.baseAddress!, count: data.count, cost: lossFunction.kernelCost)
                    }
                }
            }
        }
        let confusion = (0 ..< classes).map { Array(counts[$0 * classes ..< ($0 + 1) * classes]) }
        self.init(confusion: confusion, lossSum: lossSum)
    }

    /// An evaluation from a confusion matrix (rows = true labels) and the summed loss.
    public init(confusion: [[Int]], lossSum: Double) {
        let count = confusion.joined().reduce(0, +)
        let correct = confusion.indices.reduce(0) { $0 + confusion[$1][$1] }
        self.count = count
        self.confusion = confusion
        accuracy = count == 0 ? 0 : Double(correct) / Double(count)
        meanLoss = count == 0 ? 0 : lossSum / Double(count)
    }

    /// Precision, recall, F1 and support for each class, in label order.
    public var perClass: [ClassMetrics] {
        confusion.indices.map { label in
            let truePositives = confusion[label][label]
            let support = confusion[label].reduce(0, +)
            let predicted = confusion.reduce(0) { $0 + $1[label] }
            let precision = predicted == 0 ? 0 : Double(truePositives) / Double(predicted)
            let recall = support == 0 ? 0 : Double(truePositives) / Double(support)
            let f1 = precision + recall == 0 ? 0 : 2 * precision * recall / (precision + recall)
            return ClassMetrics(label: label, precision: precision, recall: recall, f1: f1, support: support)
        }
    }
}
