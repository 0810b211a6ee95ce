import MNISTSoftmax
import MNISTSoftmaxTestSupport
import RealModule
import Testing

@Suite("Loss functions")
struct LossFunctionTests {
    /// Each head's analytic ∂L/∂θ (σ(z) − y for sigmoid-bce, the Jacobian applied to p − y for
    /// mse) against central differences of its own loss, in Double.
    @Test(arguments: LossFunction.allCases, [UInt64(1), 2])
    func gradientMatchesFiniteDifferencesInDouble(lossFunction: LossFunction, seed: UInt64) {
        let problem = TinyProblem<Double>(seed: seed, l2: 0.1, lossFunction: lossFunction)
        let analytic = ReferenceMath.fusedGradient(
            weights: problem.weights, bias: problem.bias, inputs: problem.inputs,
            labels: problem.labels, l2: problem.l2, lossFunction: lossFunction)
        let numeric = problem.finiteDifferenceGradient()
        let weightError = maxRelativeError(analytic.weights, numeric.weights)
        let biasError = maxRelativeError(analytic.bias, numeric.bias)
        print("[\(lossFunction.rawValue) finite differences, seed \(seed)] W \(weightError), b \(biasError)")
        #expect(weightError <= 1e-7 && biasError <= 1e-7, "\(lossFunction): W \(weightError), b \(biasError)")
        #expect(analytic.bias.map(abs).max()! > 1e-3, "the gradient is too small to test")
    }

    /// The kernel's δ for each head, through the whole fused pass, against the Double reference,
    /// on batch sizes that do and do not fill the vectors, on 1 and 2 threads (the kernels' two paths).
    @Test(arguments: LossFunction.allCases)
    func kernelMatchesReference(lossFunction: LossFunction) {
        let data = try! randomImageBatch(count: 150, seed: 78)
        let model = randomModel(scale: 0.01, seed: 9)
        for batchSize in [7, 129] {
            for threads in [1, 2] {
                let samples = (0 ..< Int32(batchSize)).map { $0 }
                let fast = model.lossAndGradient(
                    on: data, samples: samples, l2: 0.5, threads: threads, lossFunction: lossFunction)
                let reference = referenceLossAndGradient(
                    model: model, data: data, samples: samples, l2: 0.5, lossFunction: lossFunction)
                let lossError = relativeError(fast.loss, reference.loss)
                let weightError = maxRelativeError(fast.gradient.weights.map { Double($0) }, reference.gradient.weights)
                let biasError = maxRelativeError(fast.gradient.bias.map { Double($0) }, reference.gradient.bias)
                let report =
                    "\(lossFunction), B = \(batchSize), \(threads) threads: loss rel \(lossError), ∇W rel \(weightError), ∇b rel \(biasError)"
                print("[kernel vs reference] \(report)")
                #expect(max(lossError, weightError, biasError) <= 1e-5, "\(report)")
            }
        }
    }

    /// The slowdown the cross-entropy avoids: a confidently wrong output (z = 10 for class 3,
    /// label 0) gets a gradient of about −1 on the true class from softmax-ce and sigmoid-bce,
    /// but under 1e-3 from mse, whose softmax Jacobian keeps the factor p_y ≈ 4.5e−5.
    @Test func quadraticCostGradientVanishesWhenConfidentlyWrong() {
        var logits = [Double](repeating: 0, count: 10)
        logits[3] = 10
        let crossEntropy = ReferenceMath.logitGradient(.softmaxCrossEntropy, logits: logits, label: 0)
        let sigmoid = ReferenceMath.logitGradient(.sigmoidBinaryCrossEntropy, logits: logits, label: 0)
        let quadratic = ReferenceMath.logitGradient(.softmaxQuadratic, logits: logits, label: 0)
        print("[saturation] ∂L/∂z_y: softmax-ce \(crossEntropy[0]), sigmoid-bce \(sigmoid[0]), mse \(quadratic[0])")
        #expect(abs(crossEntropy[0] + 1) < 1e-3 && abs(sigmoid[0] + 0.5) < 1e-9)
        #expect(abs(quadratic[0]) < 1e-3 && abs(quadratic[0]) > 0)
        #expect(quadratic.map(abs).max()! < 1e-3, "mse: \(quadratic)")
    }

    /// Confidently right samples (z_y = 8, every other z ≤ −8) have costs near 3e−7 (softmax-ce)
    /// and 1e−3 (sigmoid-bce). Taken as log Σ e^{z_j − m}, the sum would round to a step of
    /// Float's 1.2e−7 near 1, an error of about 20%; and z_y + softplus(−z_y) − z_y would round at
    /// 8's ulp. The kernels take log(1 + Σ_{j≠y} …) and softplus(−z_y), so that the cost stays
    /// within 1e−5 of the Double reference, in training (1 and 2 threads) and in evaluation, over
    /// 20 samples (a group of 16 and a part group). mse is left out: its p_y − 1 cancels.
    @Test(arguments: [LossFunction.softmaxCrossEntropy, .sigmoidBinaryCrossEntropy])
    func confidentlyRightSamplesKeepTheirTinyCostAccurate(lossFunction: LossFunction) throws {
        let images = try randomImageBatch(count: 20, seed: 31)
        let data = try LabeledImages(
            pixels: images.pixels, labels: [UInt8](repeating: 0, count: 20), rows: 28, columns: 28)
        let model = SoftmaxModel(
            weights: [Float](repeating: 0, count: 7840),
            bias: [8, -8, -8.5, -9, -9.5, -10, -10.5, -11, -11.5, -12])
        let reference = referenceLossAndGradient(
            model: model, data: data, samples: (0 ..< 20).map { $0 }, l2: 0,
            lossFunction: lossFunction
        ).loss
        #expect(reference > 0 && reference < 1e-2, "the cost is not tiny: \(reference)")
        for threads in [1, 2] {
            let trained = model.lossAndGradient(on: data, threads: threads, lossFunction: lossFunction).loss
            let error = relativeError(trained, reference)
            print(
                "[tiny cost] \(lossFunction), \(threads) threads: \(trained) vs \(reference), relative error \(error)")
            #expect(error <= 1e-5, "\(lossFunction), \(threads) threads: \(trained) vs \(reference)")
        }
        let evaluated = Evaluation(of: model, on: data, lossFunction: lossFunction).meanLoss
        let error = relativeError(evaluated, reference)
        print("[tiny cost] \(lossFunction), evaluation: \(evaluated) vs \(reference), relative error \(error)")
        #expect(error <= 1e-5, "\(lossFunction), evaluation: \(evaluated) vs \(reference)")
    }

    /// Logits of ±1000 (a bias that large) keep every head's loss and gradient finite in the kernel.
    @Test(arguments: LossFunction.allCases)
    func extremeLogitsStayFinite(lossFunction: LossFunction) throws {
        let data = try randomImageBatch(count: 8, seed: 5)
        let model = SoftmaxModel(
            weights: [Float](repeating: 0, count: 7840),
            bias: [1000, -1000, 0, 1000, -1000, 0, 500, -500, 0, 0])
        let result = model.lossAndGradient(on: data, lossFunction: lossFunction)
        #expect(result.loss.isFinite, "\(lossFunction): loss \(result.loss)")
        #expect(result.gradient.weights.allSatisfy(\.isFinite) && result.gradient.bias.allSatisfy(\.isFinite))
        let reference = referenceLossAndGradient(
            model: model, data: data, samples: (0 ..< 8).map { $0 }, l2: 0,
            lossFunction: lossFunction)
        #expect(relativeError(result.loss, reference.loss) <= 1e-5, "\(result.loss) vs \(reference.loss)")
    }
}
