import MNISTKernels

/// A 784→10 softmax regression: logits z = W x + b with x = pixel / 255, probabilities
/// p = softmax(z), prediction argmax z.
public struct SoftmaxModel: Equatable, Sendable {
    /// K, the number of classes (digits 0…9).
    public static let classCount = LabeledImages.classCount
    /// D, the number of inputs (28×28 pixels).
    public static let featureCount = LabeledImages.mnistPixelCount

    /// W: (K, D) = (10, 784), row-major: row k is the template of class k.
    public var weights: [Float]
    /// b: (K) = (10).
    public var bias: [Float]

    /// The zero model: every class equally likely. Softmax regression is convex, so training
    /// can start here without random initialisation.
    public init() {
        weights = [Float](repeating: 0, count: Self.classCount * Self.featureCount)
        bias = [Float](repeating: 0, count: Self.classCount)
    }

    /// A model with the given parameters; `weights` must hold 10×784 values and `bias` 10.
    public init(weights: [Float], bias: [Float]) {
        precondition(
            weights.count == Self.classCount * Self.featureCount && bias.count == Self.classCount,
            "a SoftmaxModel has a (10, 784) weight and a (10) bias")
        self.weights = weights
        self.bias = bias
    }

    /// Class probabilities p = softmax(W x + b) for one image of 784 pixels (row-major UInt8),
    /// x = pixel / 255. Needs a CPU that can run the kernels (`KernelCPU.verify()`).
    public func probabilities(forPixels pixels: [UInt8]) -> [Float] {
        precondition(pixels.count == Self.featureCount, "an image has 784 pixels")
        KernelCPU.requireSupport()
        return weights.withUnsafeBufferPointer { w in
            bias.withUnsafeBufferPointer { b in
                pixels.withUnsafeBufferPointer { x in
                    SoftmaxKernel.probabilities(weights: w.baseAddress!, bias: b.baseAddress!, pixels: x.baseAddress!)
                }
            }
        }
    }
}
