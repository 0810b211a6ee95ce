import RealModule

/// A gradient of the training loss with respect to W (K, D) and b (K).
public struct ParameterGradient<Scalar: Real & BinaryFloatingPoint>: Equatable {
    /// ∂L/∂W: (K, D) row-major.
    public var weights: [Scalar]
    /// ∂L/∂b: (K).
    public var bias: [Scalar]

    public init(weights: [Scalar], bias: [Scalar]) {
        self.weights = weights
        self.bias = bias
    }
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

    /// σ(z) = 1 / (1 + e^{−z}), written so that neither branch overflows.
    public static func sigmoid<T: Real & BinaryFloatingPoint>(_ z: T) -> T {
        z >= 0 ? 1 / (1 + T.exp(-z)) : T.exp(z) / (1 + T.exp(z))
    }

    /// One sample's cost for `lossFunction` from its logits z (K) and label y:
    /// softmax-ce −log p_y; sigmoid-bce Σ_k softplus(z_k) − z_y (the binary cross-entropy of ten
    /// sigmoids, with log(1 + e^z) kept finite for large |z|); mse ½ ‖softmax(z) − onehot(y)‖².
    public static func sampleLoss<T: Real & BinaryFloatingPoint>(_ lossFunction: LossFunction, logits: [T], label: Int)
        -> T
    {
        switch lossFunction {
        case .softmaxCrossEntropy:
            return crossEntropy(logits: logits, label: label)
        case .sigmoidBinaryCrossEntropy:
            // −log σ(z) = softplus(−z) and −log(1 − σ(z)) = softplus(z), softplus(z) = log(1 + e^z).
            let softplus = { (z: T) in max(z, 0) + T.log(onePlus: T.exp(-abs(z))) }
            return logits.reduce(T.zero) { $0 + softplus($1) } - logits[label]
        case .softmaxQuadratic:
            let p = softmax(logits)
            return p.indices.reduce(T.zero) { sum, k in
                let difference = p[k] - (k == label ? 1 : 0)
                return sum + difference * difference / 2
            }
        }
    }

    /// ∂L/∂z for one sample (K): p − onehot(y) for softmax-ce, σ(z) − onehot(y) for sigmoid-bce,
    /// and for mse the chain rule through the softmax Jacobian, J (p − y) with
    /// J_ij = p_i (δ_ij − p_j).
    public static func logitGradient<T: Real & BinaryFloatingPoint>(
        _ lossFunction: LossFunction, logits: [T], label: Int
    ) -> [T] {
        let classes = logits.count
        switch lossFunction {
        case .softmaxCrossEntropy:
            var delta = softmax(logits)
            delta[label] -= 1
            return delta
        case .sigmoidBinaryCrossEntropy:
            return logits.indices.map { sigmoid(logits[$0]) - (($0 == label) ? 1 : 0) }
        case .softmaxQuadratic:
            let p = softmax(logits)
            let lossByProbability = p.indices.map { p[$0] - (($0 == label) ? 1 : 0) }
            return (0 ..< classes).map { i in
                (0 ..< classes).reduce(T.zero) { sum, j in
                    let kronecker: T = i == j ? 1 : 0
                    let jacobian: T = p[i] * (kronecker - p[j])
                    return sum + jacobian * lossByProbability[j]
                }
            }
        }
    }

    /// L = (1/B) Σ_n L_n(z_n) + (λ/2) ‖W‖², L_n the sample cost of `lossFunction` (by default
    /// −log p_{y_n}). The bias is not regularised.
    public static func loss<T: Real & BinaryFloatingPoint>(
        weights: [T], bias: [T], inputs: [T], labels: [Int], l2: T,
        lossFunction: LossFunction = .softmaxCrossEntropy
    ) -> T {
        let z = logits(weights: weights, bias: bias, inputs: inputs)
        let dataLoss =
            zip(z, labels).reduce(T.zero) { $0 + sampleLoss(lossFunction, logits: $1.0, label: $1.1) } / T(labels.count)
        return dataLoss + l2 / 2 * weights.reduce(0) { $0 + $1 * $1 }
    }

    /// The gradient from ∂L_n/∂z_n (`logitGradient`). For softmax followed by cross-entropy,
    /// ∂L_n/∂z_n = p_n − onehot(y_n), so dW = (1/B) Σ_n (p_n − y_n) x_nᵀ + λW and
    /// db = (1/B) Σ_n (p_n − y_n).
    public static func fusedGradient<T: Real & BinaryFloatingPoint>(
        weights: [T], bias: [T], inputs: [T], labels: [Int], l2: T,
        lossFunction: LossFunction = .softmaxCrossEntropy
    )
        -> ParameterGradient<T>
    {
        let logitGradients = zip(logits(weights: weights, bias: bias, inputs: inputs), labels).map { z, label in
            logitGradient(lossFunction, logits: z, label: label)
        }
        return accumulate(logitGradients: logitGradients, weights: weights, inputs: inputs, l2: l2)
    }

    /// The same gradient by the explicit chain rule, as a check on the fused form:
    /// ∂L/∂p_j = −y_j / p_j (only j = y is non-zero), ∂p_j/∂z_i = p_j (δ_ij − p_i) (the softmax
    /// Jacobian), and ∂L/∂z_i = Σ_j ∂L/∂p_j · ∂p_j/∂z_i. Algebraically this is p_i − y_i.
    public static func chainRuleGradient<T: Real & BinaryFloatingPoint>(
        weights: [T], bias: [T], inputs: [T], labels: [Int], l2: T
    )
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
    static func accumulate<T: Real & BinaryFloatingPoint>(logitGradients: [[T]], weights: [T], inputs: [T], l2: T)
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
