import RealModule

/// A batch, a model and a cost whose gradient is checked.
public struct GradientProblem: Sendable {
    public var model: SoftmaxModel
    /// B images of 28×28 with labels, prepared as the model expects (deskewed when it was
    /// trained so).
    public var batch: LabeledImages
    public var lossFunction: LossFunction
    /// λ of the (λ/2)‖W‖² term.
    public var l2: Float

    public init(model: SoftmaxModel, batch: LabeledImages, lossFunction: LossFunction, l2: Float) {
        self.model = model
        self.batch = batch
        self.lossFunction = lossFunction
        self.l2 = l2
    }

    /// X: (B, 784) in Double, x = pixel / 255.
    var inputs: [Double] { batch.pixels.map { Double($0) / 255 } }
    var labels: [Int] { batch.labels.map(Int.init) }
    var weights: [Double] { model.weights.map(Double.init) }
    var bias: [Double] { model.bias.map(Double.init) }
}

/// The three ways to the gradient of the training objective that `GradientCheck` compares.
public enum GradientMethod: String, CaseIterable, Sendable, Encodable {
    /// What training uses: the kernel's fused ∂L/∂z (p − y, σ − y, or J (p − y) for mse), in
    /// Float (`SoftmaxModel.lossAndGradient`).
    case fusedKernel = "fused-kernel"
    /// ∂L/∂a through the output layer's Jacobian, in Double
    /// (`ReferenceMath.explicitChainRuleGradient`).
    case chainRule = "chain-rule"
    /// Central differences of the loss, in Double (`ReferenceMath.centralDifferenceGradient`).
    case finiteDifferences = "finite-differences"

    /// Whether the method computes in Float (the fused kernel) or Double (the others).
    public var isSinglePrecision: Bool { self == .fusedKernel }
}

/// The functions that give each method's gradient: `standard` in use, another in tests that
/// show a wrong gradient is caught. Each returns dW (K·D, row-major) and db (K) in Double.
public struct GradientMethods: Sendable {
    public var gradient: @Sendable (GradientMethod, GradientProblem) -> ParameterGradient<Double>

    public init(gradient: @escaping @Sendable (GradientMethod, GradientProblem) -> ParameterGradient<Double>) {
        self.gradient = gradient
    }

    /// The library's own: the training kernel (one thread), the explicit chain rule, and
    /// central differences with h = 1e-5.
    public static let standard = GradientMethods { method, problem in
        switch method {
        case .fusedKernel:
            let fused = problem.model.lossAndGradient(
                on: problem.batch, l2: problem.l2, threads: 1, lossFunction: problem.lossFunction
            ).gradient
            return ParameterGradient(weights: fused.weights.map(Double.init), bias: fused.bias.map(Double.init))
        case .chainRule:
            return ReferenceMath.explicitChainRuleGradient(
                weights: problem.weights, bias: problem.bias, inputs: problem.inputs,
                labels: problem.labels, l2: Double(problem.l2),
                lossFunction: problem.lossFunction)
        case .finiteDifferences:
            return ReferenceMath.centralDifferenceGradient(
                weights: problem.weights, bias: problem.bias, inputs: problem.inputs,
                labels: problem.labels, l2: Double(problem.l2),
                lossFunction: problem.lossFunction)
        }
    }
}

/// The largest difference between two methods' gradients for one cost, and whether it is
/// within tolerance.
public struct GradientComparison: Sendable, Equatable, Encodable {
    public let lossFunction: LossFunction
    public let first: GradientMethod
    public let second: GradientMethod
    /// `GradientCheck.relativeDifference` of the two gradients.
    public let relativeDifference: Double
    public let tolerance: Double
    /// relativeDifference ≤ tolerance; false when it is NaN.
    public var passes: Bool { relativeDifference <= tolerance }

    enum CodingKeys: String, CodingKey { case lossFunction, first, second, relativeDifference, tolerance, passes }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(lossFunction.rawValue, forKey: .lossFunction)
        try container.encode(first, forKey: .first)
        try container.encode(second, forKey: .second)
        // JSON has no NaN: a gradient that went NaN is reported as null.
        try container.encode(relativeDifference.isFinite ? relativeDifference : nil, forKey: .relativeDifference)
        try container.encode(tolerance, forKey: .tolerance)
        try container.encode(passes, forKey: .passes)
    }
}

/// Checks the training gradient three ways, for each cost: the fused kernel in Float, the
/// explicit chain rule in Double, and central differences in Double, compared pairwise.
public enum GradientCheck {
    /// Between the two Double methods: their difference is rounding plus the finite
    /// differences' O(h²) truncation, near 1e-9 on MNIST.
    public static let doubleTolerance = 1e-6
    /// When the Float kernel is one side: Float's ε is 1.2e-7, and the kernel sums B products
    /// per weight and uses its own exp, so a correct kernel lands near 1e-6; 1e-4 still catches
    /// any wrong term, which is off by order 1.
    public static let floatTolerance = 1e-4
    /// The smallest scale a relative difference divides by, so that gradients that are all
    /// (nearly) zero compare by their absolute difference over 1e-8.
    public static let scaleFloor = 1e-8

    /// max_i |a_i − b_i| / max(max_i |a_i|, max_i |b_i|, 1e-8) over all weights and biases: the
    /// largest difference relative to the largest gradient component. Dividing each component
    /// by its own size instead would blow up where the true gradient is 0 (pixels that are
    /// always 0 on the batch, regularised weights at rest). NaN if either side holds a NaN.
    public static func relativeDifference(_ a: ParameterGradient<Double>, _ b: ParameterGradient<Double>) -> Double {
        let first = a.weights + a.bias, second = b.weights + b.bias
        precondition(first.count == second.count, "gradients of different models")
        var largestDifference = 0.0, scale = scaleFloor
        for (x, y) in zip(first, second) {
            if x.isNaN || y.isNaN { return .nan }
            largestDifference = max(largestDifference, abs(x - y))
            scale = max(scale, abs(x), abs(y))
        }
        return largestDifference / scale
    }

    /// The method pairs compared, in order.
    public static let pairs: [(GradientMethod, GradientMethod)] = [
        (.fusedKernel, .chainRule), (.fusedKernel, .finiteDifferences), (.chainRule, .finiteDifferences),
    ]

    /// Compares the three methods' gradients pairwise for each of `lossFunctions`, on `model`
    /// at `batch` with L2 λ = `l2`. A pair with the Float kernel in it uses `floatTolerance`,
    /// the Double pair `doubleTolerance`.
    public static func compare(
        model: SoftmaxModel, batch: LabeledImages, l2: Float,
        lossFunctions: [LossFunction] = LossFunction.allCases,
        methods: GradientMethods = .standard
    ) -> [GradientComparison] {
        lossFunctions.flatMap { lossFunction in
            let problem = GradientProblem(model: model, batch: batch, lossFunction: lossFunction, l2: l2)
            let gradients = Dictionary(
                uniqueKeysWithValues: GradientMethod.allCases.map { ($0, methods.gradient($0, problem)) })
            return pairs.map { first, second in
                GradientComparison(
                    lossFunction: lossFunction, first: first, second: second,
                    relativeDifference: relativeDifference(gradients[first]!, gradients[second]!),
                    tolerance: first.isSinglePrecision || second.isSinglePrecision ? floatTolerance : doubleTolerance)
            }
        }
    }
}
