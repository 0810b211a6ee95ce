import MNISTKernels
import RealModule

extension SoftmaxModel {
    /// The training objective and its gradient over the images `samples` of `data` (all of them
    /// when `samples` is nil), computed by the fast kernel on `threads` threads (at most
    /// `SoftmaxTrainer.maximumThreads`):
    /// L = (1/B) Σ L_n + (λ/2)‖W‖², ∇W = (1/B) Σ δ_n xᵀ + λW, ∇b = (1/B) Σ δ_n, where L_n and
    /// δ_n = ∂L_n/∂z are those of `lossFunction`: −log p_y and p − y by default.
    ///
    /// data: (N, 784) u8 images with labels; samples: B indices into N (B ≥ 1). The result does
    /// not depend on the thread count: every sum has the same shape on any number of threads.
    /// Needs a CPU that can run the kernels (`KernelCPU.verify()`).
    public func lossAndGradient(
        on data: LabeledImages, samples: [Int32]? = nil, l2: Float = 0, threads: Int = 1,
        lossFunction: LossFunction = .softmaxCrossEntropy
    )
        -> (loss: Double, gradient: ParameterGradient<Float>)
    {
        precondition(data.pixelsPerImage == Self.featureCount, "the model needs 28×28 images")
        precondition(threads >= 1, "at least one thread")
        let samples = samples ?? (0 ..< Int32(data.count)).map { $0 }
        precondition(
            !samples.isEmpty && samples.allSatisfy { $0 >= 0 && Int($0) < data.count }, "sample indices out of range")
        KernelCPU.requireSupport()
        let engine = ColumnShardedSoftmax(threadCount: threads, lossFunction: lossFunction.kernelCost)
        engine.parameters = (weights, bias)
        var lossSum = 0.0
        samples.withUnsafeBufferPointer { samples in
            engine.pass(over: samples, of: data.maskedForKernels, stepSize: samples.count, update: nil) {
                lossSum = $0.lossSum
            }
        }
        let sum = engine.gradientSum
        let scale = 1 / Float(samples.count)
        let weightCount = weights.count
        var squaredNorm: Double = 0
        let weightGradient = (0 ..< weightCount).map { i in
            squaredNorm += Double(weights[i]) * Double(weights[i])
            return sum.weights[i] * scale + l2 * weights[i]
        }
        let biasGradient = sum.bias.map { $0 * scale }
        return (
            lossSum / Double(samples.count) + Double(l2) / 2 * squaredNorm,
            ParameterGradient(weights: weightGradient, bias: biasGradient)
        )
    }
}
