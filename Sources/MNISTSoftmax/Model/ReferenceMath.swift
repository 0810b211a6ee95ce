import RealModule

/// A gradient of the training loss with respect to W (K, D) and b (K).
public struct ParameterGradient<Scalar: Real & BinaryFloatingPoint>: Equatable {
    /// ∂L/∂W: (K, D) row-major.
    public var weights: [Scalar]
    /// ∂L/∂b: (K).
    public var bias: [Scalar]
}

/// The textbook math of softmax regression, written for clarity rather than speed and generic
/// over Float and Double. The fast kernels (`SoftmaxKernel`) are tested against it, and it keeps
/// the explicit chain rule that the fused gradient `p − y` replaces.
///
/// Shapes: W (K, D) row-major, b (K), X (B, D) row-major with x already scaled to [0, 1],
/// labels (B) in 0..<K. K is `bias.count`, D is `weights.count / K`.
public enum ReferenceMath {
    /// p_i = e^{z_i − m} / Σ_j e^{z_j − m} with m = max_j z_j.
    ///
    /// Subtracting m cancels in the ratio, so the result is the softmax; but it makes every
    /// exponent ≤ 0, so e^{1000} is never formed and the sum is at least 1 (the max term).
    public static func softmax<T: Real & BinaryFloatingPoint>(_ logits: [T]) -> [T] {
        let maximum = logits.max()!
        let exponentials = logits.map { T.exp($0 - maximum) }
        let sum = exponentials.reduce(0, +)
        return exponentials.map { $0 / sum }
    }

    /// −log p_y = log Σ_j e^{z_j − m} − (z_y − m): the log-sum-exp form, finite for any finite z.
    public static func crossEntropy<T: Real & BinaryFloatingPoint>(logits: [T], label: Int) -> T {
        let maximum = logits.max()!
        let logSum = T.log(logits.reduce(0) { $0 + T.exp($1 - maximum) })
        return logSum - (logits[label] - maximum)
    }

    /// Z = X Wᵀ + b: (B, K).
    public static func logits<T: Real & BinaryFloatingPoint>(weights: [T], bias: [T], inputs: [T]) -> [[T]] {
        let classes = bias.count, features = weights.count / classes
        return stride(from: 0, to: inputs.count, by: features).map { start in
            (0 ..< classes).map { k in
                (0 ..< features).reduce(bias[k]) { $0 + weights[k * features + $1] * inputs[start + $1] }
            }
        }
    }

    /// L = (1/B) Σ_n −log p_{y_n}(x_n) + (λ/2) ‖W‖². The bias is not regularised.
    public static func loss<T: Real & BinaryFloatingPoint>(weights: [T], bias: [T], inputs: [T], labels: [Int], l2: T) -> T {
        let z = logits(weights: weights, bias: bias, inputs: inputs)
        let dataLoss = zip(z, labels).reduce(T.zero) { $0 + crossEntropy(logits: $1.0, label: $1.1) } / T(labels.count)
        return dataLoss + l2 / 2 * weights.reduce(0) { $0 + $1 * $1 }
    }

    /// The fused gradient. For softmax followed by cross-entropy, ∂L_n/∂z_n = p_n − onehot(y_n),
    /// so dW = (1/B) Σ_n (p_n − y_n) x_nᵀ + λW and db = (1/B) Σ_n (p_n − y_n).
    public static func fusedGradient<T: Real & BinaryFloatingPoint>(weights: [T], bias: [T], inputs: [T], labels: [Int], l2: T)
        -> ParameterGradient<T>
    {
        let logitGradients = zip(logits(weights: weights, bias: bias, inputs: inputs), labels).map { z, label in
            var delta = softmax(z)
            delta[label] -= 1
            return delta
        }
        return accumulate(logitGradients: logitGradients, weights: weights, inputs: inputs, l2: l2)
    }

    /// The same gradient by the explicit chain rule, as a check on the fused form:
    /// ∂L/∂p_j = −y_j / p_j (only j = y is non-zero), ∂p_j/∂z_i = p_j (δ_ij − p_i) (the softmax
    /// Jacobian), and ∂L/∂z_i = Σ_j ∂L/∂p_j · ∂p_j/∂z_i. Algebraically this is p_i − y_i.
    public static func chainRuleGradient<T: Real & BinaryFloatingPoint>(weights: [T], bias: [T], inputs: [T], labels: [Int], l2: T)
        -> ParameterGradient<T>
    {
        let classes = bias.count
        let logitGradients = zip(logits(weights: weights, bias: bias, inputs: inputs), labels).map { z, label in
            let p = softmax(z)
            let lossByProbability = (0 ..< classes).map { j in j == label ? -1 / p[j] : T.zero }
            return (0 ..< classes).map { i in
                (0 ..< classes).reduce(T.zero) { sum, j in
                    let jacobian = p[j] * ((i == j ? 1 : 0) - p[i])
                    return sum + lossByProbability[j] * jacobian
                }
            }
        }
        return accumulate(logitGradients: logitGradients, weights: weights, inputs: inputs, l2: l2)
    }

    /// dW = (1/B) Σ_n δ_n x_nᵀ + λW, db = (1/B) Σ_n δ_n, from δ_n = ∂L_n/∂z_n: (B, K).
    private static func accumulate<T: Real & BinaryFloatingPoint>(logitGradients: [[T]], weights: [T], inputs: [T], l2: T)
        -> ParameterGradient<T>
    {
        let classes = logitGradients.first?.count ?? 0, features = weights.count / max(classes, 1)
        let scale = 1 / T(logitGradients.count)
        var gradient = ParameterGradient(weights: weights.map { l2 * $0 }, bias: [T](repeating: 0, count: classes))
        for (n, delta) in logitGradients.enumerated() {
            for k in 0 ..< classes {
                gradient.bias[k] += scale * delta[k]
                for d in 0 ..< features {
                    gradient.weights[k * features + d] += scale * delta[k] * inputs[n * features + d]
                }
            }
        }
        return gradient
    }
}
