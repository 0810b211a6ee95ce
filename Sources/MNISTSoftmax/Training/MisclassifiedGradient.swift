/// How hard a cost still pushes on the samples the model gets wrong: the mean, over the
/// misclassified samples n (argmax z_n ≠ y_n), of |∂L_n/∂z_{n,y_n}|, the gradient on the true
/// class's logit. It is the quantity behind the learning slowdown (`LearningSlowdown` shows it for
/// one sample):
///
///     softmax-ce:   ∂L/∂z_y = p_y − 1                                   near −1 on a wrong sample
///     sigmoid-bce:  ∂L/∂z_y = σ(z_y) − 1                                near −1 on a wrong sample
///     mse:          ∂L/∂z_y = Σ_j (p_j − y_j) p_j (δ_jy − p_y)          carries p_y: near 0 once
///                           = p_y ((p_y − 1) − Σ_j p_j (p_j − y_j))    the model is confidently wrong
///
/// So the mean stays near 1 under the cross-entropies however wrong the model is, and collapses
/// under the quadratic cost, which then barely learns from the samples it most needs to.
public struct MisclassifiedGradient: Sendable, Equatable {
    /// Samples looked at.
    public let count: Int
    /// Of those, how many the model gets wrong.
    public let misclassified: Int
    /// The mean of |∂L_n/∂z_{n,y_n}| over the misclassified samples; 0 when there is none.
    public let meanTrueClassMagnitude: Double

    /// Measures `model` under `lossFunction` on every sample of `data` (28×28 images, prepared as
    /// the model expects).
    /// W: (10, 784) row-major; x_n: (784) u8 of data, used as x_n / 255; z_n = W x_n + b: (10),
    /// in Float as the kernels compute it (summed in another order, so a logit may differ from
    /// theirs in its last bits); ∂L_n/∂z_n from `ReferenceMath.logitGradient`.
    public init(of model: SoftmaxModel, on data: LabeledImages, lossFunction: LossFunction) {
        precondition(data.pixelsPerImage == SoftmaxModel.featureCount, "the model needs 28×28 images")
        let classes = SoftmaxModel.classCount, features = SoftmaxModel.featureCount
        var misclassified = 0, magnitudeSum = 0.0
        var logits = [Float](repeating: 0, count: classes)
        model.weights.withUnsafeBufferPointer { weights in
            data.pixels.withUnsafeBufferPointer { pixels in
                for n in 0 ..< data.count {
                    let image = pixels.baseAddress! + n * features
                    // z_k = b_k + (1/255) Σ_j W[k, j] · pixel_j.
                    for k in 0 ..< classes {
                        let row = weights.baseAddress! + k * features
                        var sum: Float = 0
                        for j in 0 ..< features where image[j] != 0 { sum += row[j] * Float(image[j]) }
                        logits[k] = model.bias[k] + sum / 255
                    }
                    let label = Int(data.labels[n])
                    // argmax z, the first of equal maxima, as the kernels choose.
                    let predicted = logits.indices.max {
                        logits[$0] < logits[$1] || logits[$0] == logits[$1] && $0 > $1
                    }!
                    guard predicted != label else { continue }
                    misclassified += 1
                    let delta = ReferenceMath.logitGradient(lossFunction, logits: logits, label: label)
                    magnitudeSum += Double(delta[label].magnitude)
                }
            }
        }
        count = data.count
        self.misclassified = misclassified
        meanTrueClassMagnitude = misclassified == 0 ? 0 : magnitudeSum / Double(misclassified)
    }
}
