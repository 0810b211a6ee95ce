import RealModule

extension ReferenceMath {
    /// ∂L_n/∂z for one sample (K) by the explicit chain rule through the output layer a(z), for
    /// every cost: ∂L/∂z_i = Σ_j ∂L/∂a_j · ∂a_j/∂z_i, never using the fused forms p − y or σ − y.
    ///
    /// - softmax-ce: a = p = softmax(z), ∂L/∂p_j = −y_j / p_j, ∂p_j/∂z_i = p_j (δ_ij − p_i).
    /// - mse: a = p, ∂L/∂p_j = p_j − y_j, the same softmax Jacobian.
    /// - sigmoid-bce: a_k = σ(z_k), ∂L/∂σ_k = −y_k / σ_k + (1 − y_k) / (1 − σ_k), and the Jacobian is
    ///   diagonal, ∂σ_k/∂z_k = σ_k (1 − σ_k). 1 − σ(z) is formed as σ(−z), not by subtraction, so
    ///   that it keeps its digits when σ is near 1.
    ///
    /// logits: (K); label in 0..<K. A probability that underflows to 0 (a logit gap beyond ~745)
    /// gives NaN, as the formula does: the comparison then fails rather than hiding it.
    public static func explicitChainRuleLogitGradient<T: Real & BinaryFloatingPoint>(
        _ lossFunction: LossFunction, logits: [T],
        label: Int
    ) -> [T] {
        let classes = logits.count
        func target(_ k: Int) -> T { k == label ? 1 : 0 }
        switch lossFunction {
        case .softmaxCrossEntropy, .softmaxQuadratic:
            let p = softmax(logits)
            // ∂L/∂p: (K)
            let lossByProbability = (0 ..< classes).map { j -> T in
                lossFunction == .softmaxCrossEntropy ? (j == label ? -1 / p[j] : 0) : p[j] - target(j)
            }
            return (0 ..< classes).map { i in
                (0 ..< classes).reduce(T.zero) { sum, j in
                    let jacobian = p[j] * ((i == j ? 1 : 0) - p[i])
                    return sum + lossByProbability[j] * jacobian
                }
            }
        case .sigmoidBinaryCrossEntropy:
            return (0 ..< classes).map { k in
                let sigma = sigmoid(logits[k]), oneMinusSigma = sigmoid(-logits[k])
                let lossBySigma = -target(k) / sigma + (1 - target(k)) / oneMinusSigma
                return lossBySigma * (sigma * oneMinusSigma)
            }
        }
    }

    /// The parameter gradient of `loss(…, lossFunction:)` through `explicitChainRuleLogitGradient`:
    /// dW = (1/B) Σ_n δ_n x_nᵀ + λW, db = (1/B) Σ_n δ_n. Shapes as in `ReferenceMath`.
    public static func explicitChainRuleGradient<T: Real & BinaryFloatingPoint>(
        weights: [T], bias: [T], inputs: [T], labels: [Int], l2: T,
        lossFunction: LossFunction
    ) -> ParameterGradient<T> {
        let logitGradients = zip(logits(weights: weights, bias: bias, inputs: inputs), labels).map { z, label in
            explicitChainRuleLogitGradient(lossFunction, logits: z, label: label)
        }
        return accumulate(logitGradients: logitGradients, weights: weights, inputs: inputs, l2: l2)
    }

    /// The gradient of `loss(…, lossFunction:)` by central differences with step h, component by
    /// component: g_θ = (L(θ + h) − L(θ − h)) / 2h, for every weight and bias.
    ///
    /// z_n is linear in the parameters, so moving W_kd by ±h moves only z_nk, by ±h x_nd (and b_k
    /// moves z_nk by ±h): the loss at θ ± h is evaluated from those moved logits, sample by sample,
    /// and the samples whose logits do not move (x_nd = 0) are left out of the difference, where
    /// they would cancel. That makes the full gradient cost O(B K D K) instead of O(B K² D²), and is
    /// more accurate than differencing the two whole batch sums. The L2 term is differenced too:
    /// (λ/2)((w + h)² − (w − h)²) / 2h.
    ///
    /// With h = 1e-5 in Double the truncation error, h² L‴/6, and the rounding error,
    /// ε |L_n| / h, are both near 1e-10 for MNIST-sized logits.
    public static func centralDifferenceGradient(
        weights: [Double], bias: [Double], inputs: [Double], labels: [Int], l2: Double,
        lossFunction: LossFunction, step h: Double = 1e-5
    ) -> ParameterGradient<Double> {
        let classes = bias.count, features = weights.count / classes, count = labels.count
        let z = logits(weights: weights, bias: bias, inputs: inputs)
        /// (L_n(z_n + shift e_k) − L_n(z_n − shift e_k)) / 2h
        func difference(sample n: Int, class k: Int, shift: Double) -> Double {
            var up = z[n], down = z[n]
            up[k] += shift
            down[k] -= shift
            return
                (sampleLoss(lossFunction, logits: up, label: labels[n])
                - sampleLoss(lossFunction, logits: down, label: labels[n])) / (2 * h)
        }
        var gradient = ParameterGradient(
            weights: [Double](repeating: 0, count: weights.count), bias: [Double](repeating: 0, count: classes))
        for k in 0 ..< classes {
            gradient.bias[k] =
                (0 ..< count).reduce(0) { $0 + difference(sample: $1, class: k, shift: h) } / Double(count)
            for d in 0 ..< features {
                let w = weights[k * features + d]
                var dataTerm = 0.0
                for n in 0 ..< count where inputs[n * features + d] != 0 {
                    dataTerm += difference(sample: n, class: k, shift: h * inputs[n * features + d])
                }
                gradient.weights[k * features + d] =
                    dataTerm / Double(count) + l2 / 2 * ((w + h) * (w + h) - (w - h) * (w - h)) / (2 * h)
            }
        }
        return gradient
    }
}
