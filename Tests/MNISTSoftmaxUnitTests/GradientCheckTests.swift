import Foundation
import MNISTSoftmax
import MNISTSoftmaxTestSupport
import Testing

/// Eight seeded random 28×28 images (every pixel non-zero, so every weight has a gradient) and
/// a random model with logits of order 1.
private let checkBatch = try! randomImageBatch(count: 8, seed: 15)
private let checkModel = randomModel(scale: 0.01, seed: 16)

@Test(arguments: LossFunction.allCases)
func theExplicitChainRuleEqualsTheFusedFormInDouble(lossFunction: LossFunction) {
    let problem = TinyProblem<Double>(seed: 151, l2: 0.01, lossFunction: lossFunction)
    let explicit = ReferenceMath.explicitChainRuleGradient(
        weights: problem.weights, bias: problem.bias, inputs: problem.inputs,
        labels: problem.labels, l2: problem.l2, lossFunction: lossFunction)
    let fused = ReferenceMath.fusedGradient(
        weights: problem.weights, bias: problem.bias, inputs: problem.inputs,
        labels: problem.labels, l2: problem.l2, lossFunction: lossFunction)
    let difference = GradientCheck.relativeDifference(explicit, fused)
    #expect(difference < 1e-14, "largest relative difference \(difference)")
}

@Test(arguments: LossFunction.allCases)
func centralDifferencesByMovedLogitsMatchDifferencesOfTheWholeLoss(lossFunction: LossFunction) {
    // The shortcut (only z_nk moves) against the textbook: perturb one parameter, recompute L.
    let problem = TinyProblem<Double>(seed: 152, l2: 0.01, lossFunction: lossFunction)
    let shortcut = ReferenceMath.centralDifferenceGradient(
        weights: problem.weights, bias: problem.bias, inputs: problem.inputs,
        labels: problem.labels, l2: problem.l2, lossFunction: lossFunction)
    let whole = problem.finiteDifferenceGradient()
    let difference = GradientCheck.relativeDifference(
        shortcut, ParameterGradient(weights: whole.weights, bias: whole.bias))
    #expect(difference < 1e-8, "largest relative difference \(difference)")
}

@Test func theRelativeDifferenceIsTheLargestDifferenceOverTheLargestComponent() {
    let a = ParameterGradient<Double>(weights: [1, -4, 0], bias: [2])
    let b = ParameterGradient<Double>(weights: [1, -3.9, 0.05], bias: [2])
    #expect(abs(GradientCheck.relativeDifference(a, b) - 0.1 / 4) < 1e-15)
    // All-zero gradients compare by absolute difference over the floor, 1e-8.
    let zero = ParameterGradient<Double>(weights: [0, 0], bias: [0])
    let tiny = ParameterGradient<Double>(weights: [0, 1e-10], bias: [0])
    #expect(abs(GradientCheck.relativeDifference(zero, tiny) - 1e-2) < 1e-15)
    #expect(GradientCheck.relativeDifference(a, ParameterGradient(weights: [.nan, -4, 0], bias: [2])).isNaN)
}

@Test func everyMethodAgreesWithinTolerance() {
    let comparisons = GradientCheck.compare(model: checkModel, batch: checkBatch, l2: 1e-3)
    #expect(comparisons.count == 9)
    for comparison in comparisons {
        #expect(
            comparison.passes,
            "\(comparison.lossFunction) \(comparison.first) vs \(comparison.second): \(comparison.relativeDifference)")
    }
    let double = comparisons.filter { $0.first == .chainRule && $0.second == .finiteDifferences }
    #expect(
        double.allSatisfy { $0.tolerance == 1e-6 && $0.relativeDifference < 1e-8 },
        "\(double.map(\.relativeDifference))")
    let float = comparisons.filter { $0.first == .fusedKernel }
    #expect(float.allSatisfy { $0.tolerance == 1e-4 }, "the Float kernel's pairs use the Float tolerance")
}

@Test func aKernelThatDropsTheQuadraticCostsJacobianFailsTheCheck() {
    // A plausible bug: the mse kernel using the cross-entropy's p − y, as if the Jacobian cancelled.
    let buggy = GradientMethods { method, problem in
        guard method == .fusedKernel, problem.lossFunction == .softmaxQuadratic else {
            return GradientMethods.standard.gradient(method, problem)
        }
        var wrong = problem
        wrong.lossFunction = .softmaxCrossEntropy
        return GradientMethods.standard.gradient(method, wrong)
    }
    let comparisons = GradientCheck.compare(model: checkModel, batch: checkBatch, l2: 0, methods: buggy)
    let failing = comparisons.filter { !$0.passes }
    #expect(failing.map(\.lossFunction) == [.softmaxQuadratic, .softmaxQuadratic])
    #expect(failing.map(\.first) == [.fusedKernel, .fusedKernel], "the chain rule and finite differences still agree")
}

@Test func oneCorruptedWeightGradientFailsBothPairsItIsIn() {
    // The chain rule with one component off by 1e-4 of the gradient's scale: just above the
    // Double tolerance, far below the Float one.
    let corrupted = GradientMethods { method, problem in
        var gradient = GradientMethods.standard.gradient(method, problem)
        if method == .chainRule {
            let scale = (gradient.weights + gradient.bias).map(abs).max()!
            gradient.weights[300] += 1e-5 * scale
        }
        return gradient
    }
    let comparisons = GradientCheck.compare(
        model: checkModel, batch: checkBatch, l2: 0, lossFunctions: [.softmaxCrossEntropy],
        methods: corrupted)
    let byPair = Dictionary(
        uniqueKeysWithValues: comparisons.map { ("\($0.first.rawValue)/\($0.second.rawValue)", $0) })
    #expect(byPair["chain-rule/finite-differences"]!.passes == false)
    #expect(abs(byPair["chain-rule/finite-differences"]!.relativeDifference - 1e-5) < 1e-7)
    #expect(byPair["fused-kernel/finite-differences"]!.passes, "the Float tolerance lets a 1e-5 error through")
}

@Test func theCrossEntropyKeepsItsGradientWhereTheQuadraticCostLosesIt() {
    let rows = LearningSlowdown.constructed(wrongProbability: [0.9, 0.999])
    for row in rows {
        #expect(row.predicted == 1 && row.label == 0)
        #expect(abs(row.crossEntropyGradient - (row.trueClassProbability - 1)) < 1e-15)
        // ∂L/∂z_y = p_y ((p_y − 1) − Σ_j p_j (p_j − y_j)), with p_y = (1 − q)/9, p_1 = q, the rest p_y.
        let p = row.trueClassProbability, q = row.predictedProbability
        let sum = p * (p - 1) + q * q + 8 * p * p
        #expect(abs(row.quadraticGradient - p * ((p - 1) - sum)) < 1e-15)
    }
    #expect(abs(rows[1].trueClassProbability - 0.001 / 9) < 1e-15)
    // At p(wrong) = 0.999 the cross-entropy still pushes with −0.9999; the quadratic cost with
    // about −2 p_y = −2.2e-4, four thousand times less.
    #expect(rows[1].crossEntropyGradient < -0.9998 && abs(rows[1].quadraticGradient) < 2.5e-4)
}

@Test func theMostConfidentErrorIsTheWrongAnswerWithTheHighestProbability() throws {
    // Two images: blank (label 3) and blank (label 5), with a model whose bias favours 5 strongly:
    // image 0 is wrong with p_5 high, image 1 right.
    let images = try LabeledImages(
        pixels: [UInt8](repeating: 0, count: 2 * 784), labels: [3, 5], rows: 28, columns: 28)
    var bias = [Float](repeating: 0, count: 10)
    bias[5] = 6
    let model = SoftmaxModel(weights: [Float](repeating: 0, count: 7840), bias: bias)
    let row = try #require(LearningSlowdown.mostConfidentError(of: model, in: images))
    #expect(row.sample == "batch image 0" && row.label == 3 && row.predicted == 5)
    #expect(abs(row.predictedProbability - exp(6) / (exp(6) + 9)) < 1e-12)
    #expect(
        LearningSlowdown.mostConfidentError(of: SoftmaxModel(), in: images) == nil, "the zero model is not confident")
}
