import RealModule

extension SoftmaxModel {
    /// The training objective and its fused gradient over the images `samples` of `data`
    /// (all of them when `samples` is nil), computed by the fast kernel:
    /// L = (1/B) Σ −log p_y + (λ/2)‖W‖², ∇W = (1/B) Σ (p − y) xᵀ + λW, ∇b = (1/B) Σ (p − y).
    ///
    /// data: (N, 784) u8 images with labels; samples: B indices into N (B ≥ 1).
    public func lossAndGradient(on data: LabeledImages, samples: [Int32]? = nil, l2: Float = 0)
        -> (loss: Double, gradient: ParameterGradient<Float>)
    {
        precondition(data.pixelsPerImage == Self.featureCount, "the model needs 28×28 images")
        let samples = samples ?? (0 ..< Int32(data.count)).map { $0 }
        precondition(!samples.isEmpty && samples.allSatisfy { $0 >= 0 && Int($0) < data.count }, "sample indices out of range")
        var gradient = ParameterGradient<Float>.zero
        let (lossSum, _) = samples.withUnsafeBufferPointer {
            accumulateFusedGradient(on: data, samples: $0, into: &gradient)
        }
        let scale = 1 / Float(samples.count)
        var squaredNorm: Double = 0
        for i in gradient.weights.indices {
            gradient.weights[i] = gradient.weights[i] * scale + l2 * weights[i]
            squaredNorm += Double(weights[i]) * Double(weights[i])
        }
        for k in gradient.bias.indices { gradient.bias[k] *= scale }
        return (lossSum / Double(samples.count) + Double(l2) / 2 * squaredNorm, gradient)
    }

    /// Adds Σ (p − y) xᵀ and Σ (p − y) over `samples` to `gradient` (unscaled); returns the summed
    /// cross-entropy and the number of correct argmax predictions. See `SoftmaxKernel`.
    func accumulateFusedGradient(on data: LabeledImages, samples: UnsafeBufferPointer<Int32>,
                                 into gradient: inout ParameterGradient<Float>) -> (lossSum: Double, correct: Int)
    {
        weights.withUnsafeBufferPointer { w in
            bias.withUnsafeBufferPointer { b in
                data.pixels.withUnsafeBufferPointer { pixels in
                    data.labels.withUnsafeBufferPointer { labels in
                        gradient.weights.withUnsafeMutableBufferPointer { gw in
                            gradient.bias.withUnsafeMutableBufferPointer { gb in
                                SoftmaxKernel.accumulateGradient(
                                    weights: w.baseAddress!, bias: b.baseAddress!,
                                    pixels: pixels.baseAddress!, labels: labels.baseAddress!, samples: samples,
                                    gradientWeights: gw.baseAddress!, gradientBias: gb.baseAddress!)
                            }
                        }
                    }
                }
            }
        }
    }
}

extension ParameterGradient where Scalar == Float {
    /// A zero gradient shaped like `SoftmaxModel`: (10, 784) and (10).
    static var zero: ParameterGradient<Float> {
        ParameterGradient(weights: [Float](repeating: 0, count: SoftmaxModel.classCount * SoftmaxModel.featureCount),
                          bias: [Float](repeating: 0, count: SoftmaxModel.classCount))
    }
}
