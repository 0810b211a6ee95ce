import MNISTKernels

/// The output layer and cost a model is trained with. Each has a gradient with respect to the
/// logits z that the kernel forms directly; all three predict argmax z.
public enum LossFunction: String, CaseIterable, Sendable, Codable {
    /// p = softmax(z), L = −log p_y. ∂L/∂z = p − onehot(y): the softmax Jacobian and
    /// ∂L/∂p = −y/p cancel. The default.
    case softmaxCrossEntropy = "softmax-ce"
    /// Ten independent sigmoids σ(z_k) with binary cross-entropy,
    /// L = −Σ_k [y_k log σ(z_k) + (1 − y_k) log(1 − σ(z_k))]. ∂L/∂z = σ(z) − y: the same form as
    /// the softmax, because σ′ = σ(1 − σ) cancels the cost's denominators.
    case sigmoidBinaryCrossEntropy = "sigmoid-bce"
    /// p = softmax(z) with the quadratic cost L = ½ ‖p − y‖². ∂L/∂z = J (p − y), where
    /// J = diag(p) − p pᵀ is the softmax Jacobian: it keeps the factor p_j, so a confidently wrong
    /// output (p_y ≈ 0) gets almost no gradient. This is the learning slowdown the
    /// cross-entropy avoids.
    case softmaxQuadratic = "mse"

    /// What the `--loss` option and the model file call it.
    public var name: String { rawValue }

    /// The kernels' name for it.
    var kernelCost: SoftmaxKernel.Cost {
        switch self {
        case .softmaxCrossEntropy: .softmaxCrossEntropy
        case .sigmoidBinaryCrossEntropy: .sigmoidBinaryCrossEntropy
        case .softmaxQuadratic: .softmaxQuadratic
        }
    }
}
