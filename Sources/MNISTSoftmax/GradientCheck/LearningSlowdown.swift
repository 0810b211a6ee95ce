import RealModule

/// The learning slowdown in numbers: for a sample the model gets confidently wrong, the
/// gradient on the true class's logit, ∂L/∂z_y, under the softmax cross-entropy and under the
/// quadratic cost on the same softmax.
///
/// Cross-entropy: ∂L/∂z_y = p_y − 1, near −1 however wrong the model is, so it keeps learning.
/// Quadratic: ∂L/∂z_y = Σ_j (p_j − y_j) p_j (δ_jy − p_y) = p_y ((p_y − 1) − Σ_j p_j (p_j − y_j)),
/// which carries the factor p_y: the more confidently wrong, the smaller the step.
public struct LearningSlowdown: Sendable, Equatable, Encodable {
    /// Where the logits came from: "batch image N (label → predicted)" or a constructed case.
    public let sample: String
    public let label: Int
    public let predicted: Int
    /// p_y: the probability the model gives the true class.
    public let trueClassProbability: Double
    /// p_predicted.
    public let predictedProbability: Double
    /// p_y − 1.
    public let crossEntropyGradient: Double
    /// The quadratic cost's ∂L/∂z_y through the softmax Jacobian.
    public let quadraticGradient: Double

    /// The row for logits z (K) with true class `label`. z: (K) in Double.
    public init(sample: String, logits: [Double], label: Int) {
        let p = ReferenceMath.softmax(logits)
        let predicted = p.indices.max { p[$0] < p[$1] || p[$0] == p[$1] && $0 > $1 }!
        self.sample = sample
        self.label = label
        self.predicted = predicted
        trueClassProbability = p[label]
        predictedProbability = p[predicted]
        crossEntropyGradient = ReferenceMath.logitGradient(.softmaxCrossEntropy, logits: logits, label: label)[label]
        quadraticGradient = ReferenceMath.logitGradient(.softmaxQuadratic, logits: logits, label: label)[label]
    }

    /// Constructed cases: true class 0 at logit 0, class 1 at logit s, the rest at 0, with s
    /// chosen so the wrong class gets probability `wrongProbability` (s = log(9 p / (1 − p))).
    public static func constructed(wrongProbability: [Double] = [0.5, 0.9, 0.99, 0.999]) -> [LearningSlowdown] {
        wrongProbability.map { q in
            var z = [Double](repeating: 0, count: SoftmaxModel.classCount)
            z[1] = Double.log(Double(SoftmaxModel.classCount - 1) * q / (1 - q))
            return LearningSlowdown(sample: "constructed, p(wrong) = \(q)", logits: z, label: 0)
        }
    }

    /// The image of `batch` that `model` gets most confidently wrong (the largest p_predicted
    /// among the misclassified, p_predicted ≥ ½), if any. batch: prepared as the model expects.
    public static func mostConfidentError(of model: SoftmaxModel, in batch: LabeledImages) -> LearningSlowdown? {
        let weights = model.weights.map(Double.init), bias = model.bias.map(Double.init)
        var best: LearningSlowdown?
        for n in 0 ..< batch.count {
            let features = SoftmaxModel.featureCount
            let x = batch.pixels[n * features ..< (n + 1) * features].map { Double($0) / 255 }
            let z = ReferenceMath.logits(weights: weights, bias: bias, inputs: x)[0]
            let row = LearningSlowdown(sample: "batch image \(n)", logits: z, label: Int(batch.labels[n]))
            if row.predicted != row.label && row.predictedProbability >= 0.5
                && row.predictedProbability > (best?.predictedProbability ?? 0)
            {
                best = row
            }
        }
        return best
    }
}
