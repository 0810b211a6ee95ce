import MNISTSoftmax
import MNISTSoftmaxTestSupport
import RealModule
import Testing

// MARK: - Reference gradient: fused form vs chain rule vs finite differences

/// A small random softmax-regression problem: K = 10 classes, D = 7 features, B = 5 samples,
/// W and b in −1…1, x in 0…1, random labels.
struct TinyProblem<T: Real & BinaryFloatingPoint> where T.RawSignificand: FixedWidthInteger {
    static var classes: Int { 10 }
    static var features: Int { 7 }
    static var batch: Int { 5 }

    var weights: [T]
    var bias: [T]
    let inputs: [T]
    let labels: [Int]
    let l2: T
    let lossFunction: LossFunction

    init(seed: UInt64, l2: T, lossFunction: LossFunction = .softmaxCrossEntropy) {
        var generator = SeededGenerator(seed: seed)
        weights = randomValues(Self.classes * Self.features, in: -1 ... 1, using: &generator)
        bias = randomValues(Self.classes, in: -1 ... 1, using: &generator)
        inputs = randomValues(Self.batch * Self.features, in: 0 ... 1, using: &generator)
        labels = (0 ..< Self.batch).map { _ in generator.next(below: Self.classes) }
        self.l2 = l2
        self.lossFunction = lossFunction
    }

    func loss(weights: [T], bias: [T]) -> T {
        ReferenceMath.loss(
            weights: weights, bias: bias, inputs: inputs, labels: labels, l2: l2, lossFunction: lossFunction)
    }

    /// ∂L/∂θ_i ≈ (L(θ + h e_i) − L(θ − h e_i)) / 2h for every weight and bias element, with
    /// h = ∛ε · max(1, |θ_i|), which balances truncation (h²) against rounding (ε/h) error.
    /// The divisor is the step actually representable, (θ_i + h) − (θ_i − h).
    func finiteDifferenceGradient() -> (weights: [T], bias: [T]) {
        let baseStep = T.ulpOfOne.cubeRoot
        func centralDifference(_ value: T, _ evaluate: (T) -> T) -> T {
            let h = baseStep * max(1, abs(value))
            let up = value + h, down = value - h
            return (evaluate(up) - evaluate(down)) / (up - down)
        }
        let weightGradient = weights.indices.map { i in
            centralDifference(weights[i]) { v in
                var w = weights
                w[i] = v
                return loss(weights: w, bias: bias)
            }
        }
        let biasGradient = bias.indices.map { k in
            centralDifference(bias[k]) { v in
                var b = bias
                b[k] = v
                return loss(weights: weights, bias: b)
            }
        }
        return (weightGradient, biasGradient)
    }
}

extension BinaryFloatingPoint where Self: Real {
    var cubeRoot: Self { Self.pow(self, 1 / 3 as Self) }
}

struct GradientAgreement {
    let fusedVsChainWeights: Double, fusedVsChainBias: Double
    let fusedVsFiniteDifferenceWeights: Double, fusedVsFiniteDifferenceBias: Double
    var largest: Double {
        max(fusedVsChainWeights, fusedVsChainBias, fusedVsFiniteDifferenceWeights, fusedVsFiniteDifferenceBias)
    }
}

func checkFusedGradient<T: Real & BinaryFloatingPoint>(
    _: T.Type, seed: UInt64, tolerance: Double,
    sourceLocation: SourceLocation = #_sourceLocation
) -> GradientAgreement
where T.RawSignificand: FixedWidthInteger {
    let typeName = String(describing: T.self)
    let problem = TinyProblem<T>(seed: seed, l2: 0.1)
    let fused = ReferenceMath.fusedGradient(
        weights: problem.weights, bias: problem.bias, inputs: problem.inputs,
        labels: problem.labels, l2: problem.l2)
    let chain = ReferenceMath.chainRuleGradient(
        weights: problem.weights, bias: problem.bias, inputs: problem.inputs,
        labels: problem.labels, l2: problem.l2)
    let numeric = problem.finiteDifferenceGradient()

    #expect(fused.weights.count == 70 && fused.bias.count == 10, sourceLocation: sourceLocation)
    #expect(chain.weights.count == 70 && chain.bias.count == 10, sourceLocation: sourceLocation)
    let agreement = GradientAgreement(
        fusedVsChainWeights: maxRelativeError(fused.weights, chain.weights),
        fusedVsChainBias: maxRelativeError(fused.bias, chain.bias),
        fusedVsFiniteDifferenceWeights: maxRelativeError(fused.weights, numeric.weights),
        fusedVsFiniteDifferenceBias: maxRelativeError(fused.bias, numeric.bias))
    let report =
        "\(typeName): fused vs chain rule W \(agreement.fusedVsChainWeights), b \(agreement.fusedVsChainBias); "
        + "fused vs finite differences W \(agreement.fusedVsFiniteDifferenceWeights), b \(agreement.fusedVsFiniteDifferenceBias)"
    print("[gradient check seed \(seed)] \(report)")
    #expect(agreement.largest <= tolerance, "\(report) (tolerance \(tolerance))", sourceLocation: sourceLocation)

    // Not vacuous: the gradient is far from zero, and the L2 term visibly changes it.
    let largestWeightGradient = fused.weights.map { Double(abs($0)) }.max() ?? 0
    let largestBiasGradient = fused.bias.map { Double(abs($0)) }.max() ?? 0
    #expect(
        largestWeightGradient > 0.05 && largestBiasGradient > 0.05,
        "gradient too small to test: \(largestWeightGradient), \(largestBiasGradient)", sourceLocation: sourceLocation)
    let withoutL2 = ReferenceMath.fusedGradient(
        weights: problem.weights, bias: problem.bias, inputs: problem.inputs,
        labels: problem.labels, l2: 0)
    #expect(maxRelativeError(fused.weights, withoutL2.weights) > 10 * tolerance, sourceLocation: sourceLocation)
    #expect(fused.bias == withoutL2.bias, "the bias is not regularised", sourceLocation: sourceLocation)
    return agreement
}

/// The L2 term is exactly (λ/2)‖W‖², computed here independently of the library.
func checkL2Term<T: Real & BinaryFloatingPoint>(
    _: T.Type, tolerance: Double,
    sourceLocation: SourceLocation = #_sourceLocation
)
where T.RawSignificand: FixedWidthInteger {
    let typeName = String(describing: T.self)
    let problem = TinyProblem<T>(seed: 3, l2: 0.1)
    let withL2 = problem.loss(weights: problem.weights, bias: problem.bias)
    let withoutL2 = ReferenceMath.loss(
        weights: problem.weights, bias: problem.bias, inputs: problem.inputs,
        labels: problem.labels, l2: 0)
    let expected = problem.weights.reduce(0.0) { $0 + Double($1) * Double($1) } * 0.05
    let error = relativeError(Double(withL2 - withoutL2), expected)
    #expect(
        error <= tolerance,
        "\(typeName): L2 term \(withL2 - withoutL2) vs (λ/2)‖W‖² = \(expected), relative error \(error)",
        sourceLocation: sourceLocation)
}

@Suite("Reference gradient")
struct ReferenceGradientTests {
    @Test(arguments: [UInt64(1), 2, 3])
    func fusedGradientMatchesChainRuleAndFiniteDifferencesInDouble(seed: UInt64) {
        let agreement = checkFusedGradient(Double.self, seed: seed, tolerance: 1e-6)
        // The two analytic forms differ only by rounding.
        #expect(max(agreement.fusedVsChainWeights, agreement.fusedVsChainBias) <= 1e-12)
    }

    @Test(arguments: [UInt64(1), 2, 3])
    func fusedGradientMatchesChainRuleAndFiniteDifferencesInFloat(seed: UInt64) {
        let agreement = checkFusedGradient(Float.self, seed: seed, tolerance: 1e-3)
        #expect(max(agreement.fusedVsChainWeights, agreement.fusedVsChainBias) <= 1e-5)
    }

    @Test func lossIncludesHalfLambdaTimesSquaredWeightNorm() {
        checkL2Term(Double.self, tolerance: 1e-12)
        checkL2Term(Float.self, tolerance: 1e-5)
    }

    /// A problem small enough to solve by hand, so the reference cannot be self-consistently wrong:
    /// K = 2, D = 1, W = 0, b = 0, x = 1, y = 0 → p = (½, ½), L = log 2 + (λ/2)·0,
    /// dW = (p − y) x = (−½, ½), db = (−½, ½).
    @Test func referenceMatchesAHandComputedExample() {
        func check<T: Real & BinaryFloatingPoint>(_: T.Type) {
            let typeName = String(describing: T.self)
            let loss = ReferenceMath.loss(
                weights: [T](repeating: 0, count: 2), bias: [0, 0], inputs: [1], labels: [0], l2: 1)
            #expect(abs(Double(loss) - Double.log(2)) <= 1e-6, "\(typeName) loss \(loss)")
            let gradient = ReferenceMath.fusedGradient(
                weights: [T](repeating: 0, count: 2), bias: [0, 0], inputs: [1],
                labels: [0], l2: 1)
            #expect(gradient.weights == [-0.5, 0.5])
            #expect(gradient.bias == [-0.5, 0.5])
            // W = (1, 0), x = 2, λ = 1: z = (2, 0), p0 = e²/(e² + 1);
            // dW = ((p0 − 1)·2 + 1, (1 − p0)·2 + 0), db = (p0 − 1, 1 − p0).
            let p0 = Double.exp(2) / (Double.exp(2) + 1)
            let g = ReferenceMath.fusedGradient(weights: [1, 0] as [T], bias: [0, 0], inputs: [2], labels: [0], l2: 1)
            let expectedWeights = [(p0 - 1) * 2 + 1, (1 - p0) * 2]
            let expectedBias = [p0 - 1, 1 - p0]
            #expect(maxRelativeError(g.weights.map { Double($0) }, expectedWeights) <= 1e-6, "\(typeName) \(g.weights)")
            #expect(maxRelativeError(g.bias.map { Double($0) }, expectedBias) <= 1e-6, "\(typeName) \(g.bias)")
        }
        check(Double.self)
        check(Float.self)
    }
}

// MARK: - Numerical stability

func checkExtremeLogits<T: Real & BinaryFloatingPoint>(_: T.Type, sourceLocation: SourceLocation = #_sourceLocation) {
    let typeName = String(describing: T.self)
    var logits = [T](repeating: 0, count: 10)
    logits[0] = 1000
    logits[1] = -1000
    let p = ReferenceMath.softmax(logits)
    #expect(p.allSatisfy { $0.isFinite }, "\(typeName) \(p)", sourceLocation: sourceLocation)
    let sum = p.reduce(0, +)
    #expect(abs(Double(sum) - 1) <= 1e-6, "\(typeName) sum \(sum)", sourceLocation: sourceLocation)
    #expect(p[0] == 1 && p[1] == 0, "\(typeName) \(p)", sourceLocation: sourceLocation)

    let maxClassLoss = ReferenceMath.crossEntropy(logits: logits, label: 0)
    let minClassLoss = ReferenceMath.crossEntropy(logits: logits, label: 1)
    let zeroClassLoss = ReferenceMath.crossEntropy(logits: logits, label: 5)
    #expect(
        maxClassLoss.isFinite && abs(Double(maxClassLoss)) <= 1e-6, "\(typeName) \(maxClassLoss)",
        sourceLocation: sourceLocation)
    #expect(
        relativeError(Double(minClassLoss), 2000) <= 1e-6, "\(typeName) \(minClassLoss)", sourceLocation: sourceLocation
    )
    #expect(
        relativeError(Double(zeroClassLoss), 1000) <= 1e-6, "\(typeName) \(zeroClassLoss)",
        sourceLocation: sourceLocation)

    // The same through the whole reference: a bias of ±1000 with W = 0.
    let bias = logits
    let weights = [T](repeating: 0, count: 10 * 3)
    let loss = ReferenceMath.loss(
        weights: weights, bias: bias, inputs: [0.5, 0.25, 1, 0, 0, 1], labels: [1, 0], l2: 0)
    #expect(
        relativeError(Double(loss), 1000) <= 1e-6, "\(typeName) mean of 2000 and 0: \(loss)",
        sourceLocation: sourceLocation)
    let gradient = ReferenceMath.fusedGradient(
        weights: weights, bias: bias, inputs: [0.5, 0.25, 1, 0, 0, 1], labels: [1, 0], l2: 0)
    #expect(
        gradient.weights.allSatisfy { $0.isFinite } && gradient.bias.allSatisfy { $0.isFinite },
        sourceLocation: sourceLocation)
    // Sample 1 (label 1): δ = (1, −1, 0…); sample 2 (label 0): δ = 0. Mean: (½, −½, 0…).
    #expect(
        gradient.bias == [0.5, -0.5] + [T](repeating: 0, count: 8), "\(gradient.bias)", sourceLocation: sourceLocation)
}

func checkEqualLogits<T: Real & BinaryFloatingPoint>(
    _: T.Type, value: T, sourceLocation: SourceLocation = #_sourceLocation
) {
    let typeName = String(describing: T.self)
    let logits = [T](repeating: value, count: 10)
    let p = ReferenceMath.softmax(logits)
    #expect(
        maxRelativeError(p.map { Double($0) }, [Double](repeating: 0.1, count: 10)) <= 1e-6, "\(typeName) \(p)",
        sourceLocation: sourceLocation)
    for label in [0, 9] {
        let loss = ReferenceMath.crossEntropy(logits: logits, label: label)
        #expect(
            relativeError(Double(loss), Double.log(10)) <= 1e-6, "\(typeName) logits \(value): \(loss)",
            sourceLocation: sourceLocation)
    }
}

@Suite("Numerical stability")
struct StabilityTests {
    @Test func logitsOfPlusMinus1000GiveFiniteProbabilitiesAndLoss() {
        checkExtremeLogits(Double.self)
        checkExtremeLogits(Float.self)
    }

    @Test(arguments: [0.0, 37.5, 1000, -1000])
    func equalLogitsGiveUniformProbabilitiesAndLogK(value: Double) {
        checkEqualLogits(Double.self, value: value)
        checkEqualLogits(Float.self, value: Float(value))
    }

    @Test func fastPathWithBiasPlusMinus1000StaysFinite() throws {
        var bias = [Float](repeating: 0, count: 10)
        bias[0] = 1000
        bias[1] = -1000
        let model = SoftmaxModel(weights: randomModel(scale: 0.01, seed: 9).weights, bias: bias)
        let data = try randomImageBatch(count: 3, seed: 21)
        let p = model.probabilities(forPixels: Array(data.pixels.prefix(784)))
        #expect(p.count == 10)
        #expect(p.allSatisfy { $0.isFinite }, "\(p)")
        #expect(abs(p.reduce(0, +) - 1) <= 1e-6 && p[0] == 1 && p[1] == 0, "\(p)")

        // Labels 0, 1, 2: losses ≈ 0, 2000 and 1000 (± the small W x), mean ≈ 1000.
        let labelled = try LabeledImages(pixels: data.pixels, labels: [0, 1, 2], rows: 28, columns: 28)
        let (loss, gradient) = model.lossAndGradient(on: labelled)
        #expect(loss.isFinite && abs(loss - 1000) <= 10, "loss \(loss)")
        #expect(gradient.weights.allSatisfy { $0.isFinite } && gradient.bias.allSatisfy { $0.isFinite })
        // δ: label 0 → 0; label 1 → (1, −1, 0…); label 2 → (1, 0, −1, 0…). Mean: (⅔, −⅓, −⅓, 0…).
        let expectedBias: [Float] = [2.0 / 3, -1.0 / 3, -1.0 / 3] + [Float](repeating: 0, count: 7)
        #expect(maxRelativeError(gradient.bias, expectedBias) <= 1e-6, "\(gradient.bias)")
    }

    /// Logits of ±3920 come from the weights, not the bias: W row 0 = +5, row 1 = −5, white image.
    @Test func fastPathWithHugeWeightLogitsStaysFinite() throws {
        var weights = [Float](repeating: 0, count: 7840)
        for d in 0 ..< 784 { weights[d] = 5; weights[784 + d] = -5 }
        let model = SoftmaxModel(weights: weights, bias: [Float](repeating: 0, count: 10))
        let white = [UInt8](repeating: 255, count: 784)
        let p = model.probabilities(forPixels: white)
        #expect(p.allSatisfy { $0.isFinite } && p[0] == 1, "\(p)")
        let data = try LabeledImages(pixels: white, labels: [1], rows: 28, columns: 28)
        let loss = model.lossAndGradient(on: data).loss
        #expect(relativeError(loss, 7840) <= 1e-5, "loss \(loss), expected 3920 − (−3920)")
        let evaluation = Evaluation(of: model, on: data)
        #expect(relativeError(evaluation.meanLoss, 7840) <= 1e-5, "evaluation loss \(evaluation.meanLoss)")
    }
}

// MARK: - Fast kernel vs reference

enum SampleOrder: String, CaseIterable, Sendable, CustomTestStringConvertible {
    /// 0, 1, …, B − 1.
    case contiguous
    /// Random indices drawn with replacement from the even indices only: repeats and skips.
    case repeatingAndSkipping
    var testDescription: String { rawValue }

    func indices(count: Int, within dataCount: Int, seed: UInt64) -> [Int32] {
        switch self {
        case .contiguous:
            return (0 ..< Int32(count)).map { $0 }
        case .repeatingAndSkipping:
            var generator = SeededGenerator(seed: seed)
            var indices = (0 ..< count).map { _ in Int32(2 * generator.next(below: (dataCount + 1) / 2)) }
            if count > 1 { indices[count - 1] = indices[0] }  // at least one repeat, whatever the draw
            return indices
        }
    }
}

/// `ReferenceMath` in Double for `model` on `samples` of `data`, with x = pixel / 255.
func referenceLossAndGradient(
    model: SoftmaxModel, data: LabeledImages, samples: [Int32], l2: Float,
    lossFunction: LossFunction = .softmaxCrossEntropy
)
    -> (loss: Double, gradient: ParameterGradient<Double>)
{
    let weights = model.weights.map { Double($0) }, bias = model.bias.map { Double($0) }
    var inputs = [Double]()
    inputs.reserveCapacity(samples.count * 784)
    for s in samples {
        let start = Int(s) * 784
        inputs += data.pixels[start ..< start + 784].map { Double($0) / 255 }
    }
    let labels = samples.map { Int(data.labels[Int($0)]) }
    return (
        ReferenceMath.loss(
            weights: weights, bias: bias, inputs: inputs, labels: labels, l2: Double(l2), lossFunction: lossFunction),
        ReferenceMath.fusedGradient(
            weights: weights, bias: bias, inputs: inputs, labels: labels, l2: Double(l2),
            lossFunction: lossFunction)
    )
}

@Suite("Fast kernel vs reference")
struct KernelTests {
    static let data = try! randomImageBatch(count: 150, seed: 77)

    /// Batch sizes that are and are not multiples of the 16-lane vectors, the 4-sample blocks,
    /// the 64-image chunks and the thread counts, on 1 and 2 threads (the kernels' two paths; more
    /// are capped at 2).
    @Test(arguments: [1, 7, 16, 100, 129], [Float(0), 0.5])
    func fastLossAndGradientMatchReferenceInDouble(batchSize: Int, l2: Float) {
        let model = randomModel(scale: 0.01, seed: UInt64(batchSize))
        for order in SampleOrder.allCases {
            for threads in [1, 2] {
                let samples = order.indices(count: batchSize, within: Self.data.count, seed: UInt64(1000 + batchSize))
                let fast = model.lossAndGradient(on: Self.data, samples: samples, l2: l2, threads: threads)
                let reference = referenceLossAndGradient(model: model, data: Self.data, samples: samples, l2: l2)
                let lossError = relativeError(fast.loss, reference.loss)
                let weightError = maxRelativeError(fast.gradient.weights.map { Double($0) }, reference.gradient.weights)
                let biasError = maxRelativeError(fast.gradient.bias.map { Double($0) }, reference.gradient.bias)
                let report =
                    "B = \(batchSize), λ = \(l2), \(order), \(threads) threads: loss \(fast.loss) vs \(reference.loss) (rel \(lossError)), "
                    + "∇W rel \(weightError), ∇b rel \(biasError)"
                print("[kernel vs reference] \(report)")
                #expect(lossError <= 1e-5, "\(report)")
                #expect(weightError <= 1e-5, "\(report)")
                #expect(biasError <= 1e-5, "\(report)")
                // Not vacuous: a real loss and a real gradient.
                #expect(fast.loss > 1 && reference.gradient.bias.map(abs).max()! > 1e-3, "\(report)")
            }
        }
    }

    @Test func repeatedSamplesCountTwice() {
        let model = randomModel(scale: 0.01, seed: 4)
        let twice = model.lossAndGradient(on: Self.data, samples: [5, 5, 8], l2: 0)
        let reference = referenceLossAndGradient(model: model, data: Self.data, samples: [5, 5, 8], l2: 0)
        let once = referenceLossAndGradient(model: model, data: Self.data, samples: [5, 8], l2: 0)
        #expect(relativeError(twice.loss, reference.loss) <= 1e-5)
        // Weighting 2:1 must differ from 1:1, or the repeat was not counted.
        #expect(relativeError(reference.loss, once.loss) > 1e-4, "\(reference.loss) vs \(once.loss)")
    }

    @Test func nilSamplesMeansEverySampleInOrder() throws {
        let model = randomModel(scale: 0.01, seed: 5)
        let small = Self.data.slice(0 ..< 20)
        let all = model.lossAndGradient(on: small, l2: 0.25)
        let explicit = model.lossAndGradient(on: small, samples: (0 ..< 20).map { $0 }, l2: 0.25)
        #expect(all.loss == explicit.loss)
        #expect(all.gradient == explicit.gradient)
    }

    @Test func probabilitiesMatchReferenceSoftmax() {
        let model = randomModel(scale: 0.05, seed: 6)
        for n in [0, 1, 149] {
            let pixels = Array(Self.data.pixels[n * 784 ..< (n + 1) * 784])
            let fast = model.probabilities(forPixels: pixels)
            let z = ReferenceMath.logits(
                weights: model.weights.map { Double($0) }, bias: model.bias.map { Double($0) },
                inputs: pixels.map { Double($0) / 255 })[0]
            let reference = ReferenceMath.softmax(z)
            let error = maxRelativeError(fast.map { Double($0) }, reference)
            #expect(error <= 1e-5, "image \(n): relative error \(error)")
        }
    }
}

// MARK: - Sparse kernels: vectors of 16 zero pixels are skipped

/// Images shaped like digits for the skipping: in each image, each vector of 16 pixels is all 0
/// with probability ½; otherwise it holds random bytes, or a single non-zero byte at a random
/// place (either 8-byte half), which alone must keep the vector.
func sparseImageBatch(count: Int, seed: UInt64) throws -> LabeledImages {
    var generator = SeededGenerator(seed: seed)
    var pixels = [UInt8](repeating: 0, count: count * SoftmaxModel.featureCount)
    for vector in 0 ..< count * 49 {
        switch generator.next(below: 4) {
        case 0, 1: continue
        case 2: pixels[vector * 16 + generator.next(below: 16)] = UInt8(1 + generator.next(below: 255))
        default: for j in 0 ..< 16 { pixels[vector * 16 + j] = UInt8.random(in: 0 ... 255, using: &generator) }
        }
    }
    let labels = (0 ..< count).map { _ in UInt8(generator.next(below: SoftmaxModel.classCount)) }
    return try LabeledImages(pixels: pixels, labels: labels, rows: 28, columns: 28, source: "sparse batch \(seed)")
}

@Suite("Sparse kernels")
struct SparseKernelTests {
    static let data = try! sparseImageBatch(count: 130, seed: 91)

    @Test(arguments: [1, 7, 100, 129])
    func sparseImagesMatchReferenceInDouble(batchSize: Int) {
        let model = randomModel(scale: 0.01, seed: UInt64(40 + batchSize))
        let samples = SampleOrder.repeatingAndSkipping.indices(
            count: batchSize, within: Self.data.count, seed: UInt64(batchSize))
        let reference = referenceLossAndGradient(model: model, data: Self.data, samples: samples, l2: 0.5)
        for threads in [1, 2] {
            let fast = model.lossAndGradient(on: Self.data, samples: samples, l2: 0.5, threads: threads)
            let lossError = relativeError(fast.loss, reference.loss)
            let weightError = maxRelativeError(fast.gradient.weights.map { Double($0) }, reference.gradient.weights)
            let biasError = maxRelativeError(fast.gradient.bias.map { Double($0) }, reference.gradient.bias)
            let report =
                "B = \(batchSize), \(threads) threads: loss rel \(lossError), ∇W rel \(weightError), ∇b rel \(biasError)"
            print("[sparse kernel vs reference] \(report)")
            #expect(lossError <= 1e-5 && weightError <= 1e-5 && biasError <= 1e-5, "\(report)")
        }
    }

    /// W = +∞ on the pixels that are 0 in every image: a kernel that multiplied them would get
    /// ∞ · 0 = NaN in every logit. Skipped, they leave the bias gradient and the probabilities
    /// bit for bit those of W = 0 there.
    @Test func allZeroVectorsAreSkippedExactly() throws {
        var pixels = Array(Self.data.pixels[0 ..< 12 * 784])
        // Vectors 3 and 30 are 0 in all twelve images.
        for image in 0 ..< 12 {
            for vector in [3, 30] { for j in 0 ..< 16 { pixels[image * 784 + vector * 16 + j] = 0 } }
        }
        let data = try LabeledImages(pixels: pixels, labels: Array(Self.data.labels[0 ..< 12]), rows: 28, columns: 28)
        let base = randomModel(scale: 0.01, seed: 9)
        let skippedColumns = Set([3, 30].flatMap { vector in (0 ..< 16).map { vector * 16 + $0 } })
        func model(withWeightOnZeroPixels value: Float) -> SoftmaxModel {
            var weights = base.weights
            for k in 0 ..< 10 { for j in skippedColumns { weights[k * 784 + j] = value } }
            return SoftmaxModel(weights: weights, bias: base.bias)
        }
        let finite = model(withWeightOnZeroPixels: 0), infinite = model(withWeightOnZeroPixels: .infinity)
        for threads in [1, 2] {
            let expected = finite.lossAndGradient(on: data, threads: threads).gradient
            let skipped = infinite.lossAndGradient(on: data, threads: threads).gradient
            #expect(skipped.bias == expected.bias, "\(threads) threads: \(skipped.bias) vs \(expected.bias)")
            #expect(expected.bias.allSatisfy(\.isFinite) && expected.bias.contains { $0 != 0 })
            // Every other column's gradient too (on the skipped ones, λW = 0 · ∞ is NaN by definition).
            let others = (0 ..< 7840).filter { !skippedColumns.contains($0 % 784) }
            #expect(others.allSatisfy { skipped.weights[$0] == expected.weights[$0] }, "\(threads) threads")
        }
        for n in [0, 11] {
            let image = Array(pixels[n * 784 ..< (n + 1) * 784])
            #expect(infinite.probabilities(forPixels: image) == finite.probabilities(forPixels: image), "image \(n)")
        }
    }

    /// Every image non-zero in exactly vectors 0, 5 and 48 (the first in each thread's columns on
    /// two threads, then the last): per block of c samples, ⌈c/2⌉ pairs × 3 vectors × 20
    /// multiply-adds forward and ⌈c/4⌉ groups × 3 vectors × 40 backward, at 16 lanes × 2 FLOP.
    @Test(arguments: [1, 2])
    func epochReportsTheFLOPTheKernelsExecuted(threads: Int) throws {
        var pixels = [UInt8](repeating: 0, count: 10 * 784)
        for image in 0 ..< 10 {
            for vector in [0, 5, 48] { pixels[image * 784 + vector * 16 + (image + vector) % 16] = 200 }
        }
        let data = try LabeledImages(pixels: pixels, labels: (0 ..< 10).map { UInt8($0) }, rows: 28, columns: 28)
        var configuration = TrainingConfiguration()
        configuration.epochs = 2
        configuration.batchSize = 5
        configuration.threads = threads
        var summaries: [EpochSummary] = []
        _ = try SoftmaxTrainer(configuration: configuration).train(on: data) { summaries.append($0) }
        // Two batches of 5 per epoch: 3 pairs and 2 groups of four each.
        let expected = 2 * (3 * 3 * 20 + 2 * 3 * 40) * 16 * 2
        #expect(summaries.map(\.kernelFLOP) == [expected, expected], "dense would be \(2 * 10 * 31_360) per epoch")
    }
}

// MARK: - Evaluation

@Suite("Evaluation")
struct EvaluationTests {
    /// W = 0 and b₃ = 5: every image is predicted 3, with z = (0, …, 5, …, 0), so
    /// −log p₃ = log(9 + e⁵) − 5 and −log p_other = log(9 + e⁵).
    @Test func modelThatAlwaysPredictsThreeHasKnownAccuracyLossAndConfusion() throws {
        var bias = [Float](repeating: 0, count: 10)
        bias[3] = 5
        let model = SoftmaxModel(weights: [Float](repeating: 0, count: 7840), bias: bias)
        let labels = (0 ..< 20).map { UInt8($0 % 10) }
        var generator = SeededGenerator(seed: 8)
        let pixels = (0 ..< 20 * 784).map { _ in UInt8.random(in: 0 ... 255, using: &generator) }
        let data = try LabeledImages(pixels: pixels, labels: labels, rows: 28, columns: 28)
        let evaluation = Evaluation(of: model, on: data)

        #expect(evaluation.count == 20)
        #expect(evaluation.accuracy == 0.1)
        let logNormaliser = Double.log(9 + Double.exp(5))
        let expectedLoss = (2 * (logNormaliser - 5) + 18 * logNormaliser) / 20
        #expect(relativeError(evaluation.meanLoss, expectedLoss) <= 1e-6, "\(evaluation.meanLoss) vs \(expectedLoss)")
        var expectedConfusion = [[Int]](repeating: [Int](repeating: 0, count: 10), count: 10)
        for label in 0 ..< 10 { expectedConfusion[label][3] = 2 }
        #expect(evaluation.confusion == expectedConfusion)

        let metrics = evaluation.perClass
        #expect(metrics.count == 10)
        #expect(metrics[3].label == 3 && metrics[3].support == 2)
        #expect(metrics[3].precision == 0.1 && metrics[3].recall == 1)
        #expect(abs(metrics[3].f1 - 2 * 0.1 / 1.1) <= 1e-12, "F1 \(metrics[3].f1)")
        for label in [0, 1, 2, 4, 5, 6, 7, 8, 9] {
            let m = metrics[label]
            #expect(m.label == label && m.support == 2, "class \(label)")
            #expect(m.precision == 0 && m.recall == 0 && m.f1 == 0, "class \(label): never predicted")
        }
    }

    /// Rows are true labels, columns predictions:
    ///           pred 0  pred 1  pred 2  pred 3
    ///   true 0     5       1       0       1     support 7
    ///   true 1     2       3       0       0     support 5
    ///   true 2     1       3       0       0     support 4  (never predicted)
    ///   true 3     0       0       0       0     support 0  (never occurs, predicted once)
    /// class 0: P = 5/8, R = 5/7, F1 = 2/3; class 1: P = 3/7, R = 3/5, F1 = ½;
    /// class 2: P = 0 (never predicted), R = 0, F1 = 0; class 3: P = 0/1, R = 0 (no support), F1 = 0.
    @Test func perClassMetricsMatchAHandComputedConfusionMatrix() {
        var confusion = [[Int]](repeating: [Int](repeating: 0, count: 10), count: 10)
        confusion[0][0] = 5; confusion[0][1] = 1; confusion[0][3] = 1
        confusion[1][0] = 2; confusion[1][1] = 3
        confusion[2][0] = 1; confusion[2][1] = 3
        let evaluation = Evaluation(confusion: confusion, lossSum: 8)
        #expect(evaluation.count == 16)
        #expect(evaluation.accuracy == 0.5)
        #expect(evaluation.meanLoss == 0.5)

        var expected: [(precision: Double, recall: Double, f1: Double, support: Int)] = [
            (5.0 / 8, 5.0 / 7, 2.0 / 3, 7),
            (3.0 / 7, 3.0 / 5, 0.5, 5),
            (0, 0, 0, 4),
            (0, 0, 0, 0),
        ]
        while expected.count < 10 { expected.append((0, 0, 0, 0)) }
        let metrics = evaluation.perClass
        #expect(metrics.map(\.label) == Array(0 ..< 10))
        for (label, (m, e)) in zip(metrics, expected).enumerated() {
            let difference = max(abs(m.precision - e.precision), abs(m.recall - e.recall), abs(m.f1 - e.f1))
            #expect(difference <= 1e-12, "class \(label): got P \(m.precision) R \(m.recall) F1 \(m.f1), expected \(e)")
            #expect(m.support == e.support, "class \(label)")
        }
    }

    @Test func emptyConfusionMatrixGivesZeroesNotNaN() {
        let evaluation = Evaluation(
            confusion: [[Int]](repeating: [Int](repeating: 0, count: 10), count: 10), lossSum: 0)
        #expect(evaluation.count == 0 && evaluation.accuracy == 0 && evaluation.meanLoss == 0)
        #expect(evaluation.perClass.allSatisfy { $0.precision == 0 && $0.recall == 0 && $0.f1 == 0 })
    }

    /// On a random model, the evaluation's mean loss and predictions agree with the reference in Double.
    @Test func evaluationAgreesWithReferenceOnARandomModel() throws {
        let model = randomModel(scale: 0.05, seed: 12)
        let data = try randomImageBatch(count: 60, seed: 13)
        let evaluation = Evaluation(of: model, on: data)
        let samples = (0 ..< Int32(60)).map { $0 }
        let reference = referenceLossAndGradient(model: model, data: data, samples: samples, l2: 0)
        let error = relativeError(evaluation.meanLoss, reference.loss)
        #expect(error <= 1e-5, "mean loss \(evaluation.meanLoss) vs reference \(reference.loss): \(error)")

        let inputs = data.pixels.map { Double($0) / 255 }
        let logits = ReferenceMath.logits(
            weights: model.weights.map { Double($0) }, bias: model.bias.map { Double($0) }, inputs: inputs)
        var confusion = [[Int]](repeating: [Int](repeating: 0, count: 10), count: 10)
        for (n, z) in logits.enumerated() {
            confusion[Int(data.labels[n])][z.indices.max { z[$0] < z[$1] }!] += 1
        }
        #expect(evaluation.confusion == confusion)
        #expect(evaluation.count == 60)
        #expect(evaluation.accuracy == Double((0 ..< 10).reduce(0) { $0 + confusion[$1][$1] }) / 60)
    }
}
