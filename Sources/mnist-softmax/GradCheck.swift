import ArgumentParser
import FoundationEssentials
import MNISTSoftmax

struct GradCheck: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gradcheck",
        abstract: "Check the training gradient three ways on a real batch, and show the learning slowdown in numbers.",
        discussion: """
            For each cost (softmax-ce, sigmoid-bce, mse) it computes the gradient of the training objective \
            (mean cost + (λ/2)‖W‖²) on the first --batch training images three ways: the fused kernel that \
            training uses (p − y, σ − y, or J (p − y) for mse; Float), the explicit chain rule through the \
            output layer's Jacobian (Double), and central finite differences with h = 1e-5 (Double). It \
            prints, for each pair, max|a − b| / max(max|a|, max|b|, \(GradientCheck.scaleFloor)) over all \
            7,850 weights and biases. Tolerances: \(GradientCheck.doubleTolerance) between the two Double \
            methods, \(GradientCheck.floatTolerance) when the Float kernel is one side (Float's ε is 1.2e-7, \
            and the kernel sums the batch in Float). Exit status 1 when any difference exceeds its tolerance.

            Then, for the batch image the model gets most confidently wrong (if any) and for constructed \
            cases, ∂L/∂z_y on the true class under the cross-entropy (p_y − 1) and under the quadratic cost \
            (which carries a factor p_y: the learning slowdown).

            Without --model it checks the zero model (W = 0, b = 0, λ = 0), where training starts. With \
            --model, λ is the file's l2 and the images are deskewed when the model was trained so.
            """)

    static let batchRange = 1 ... 10000

    @OptionGroup var data: DataOptions

    @Option(
        help: ArgumentHelp(
            "Model file (safetensors) whose gradient to check. [default: the zero model]", valueName: "file"))
    var model: String?

    @Option(
        help: ArgumentHelp("How many training images, from the first (1 to \(batchRange.upperBound)).", valueName: "n"))
    var batch: Int = 100

    @Option(
        help: ArgumentHelp(
            "Check only this cost: softmax-ce, sigmoid-bce or mse. [default: all three]", valueName: "loss"))
    var loss: LossFunction?

    @Flag(help: "Print one JSON object instead of tables.")
    var json = false

    func validate() throws {
        guard Self.batchRange.contains(batch) else {
            throw ValidationError("--batch must be between 1 and \(Self.batchRange.upperBound)")
        }
    }

    func run() throws {
        // Before anything else, so that a CPU too old for this build gets a message, not SIGILL.
        try KernelCPU.verify()
        let stored = try model.map(SafeTensorsFile.read) ?? StoredModel(model: SoftmaxModel())
        // The model file's λ ("l2" in its metadata; absent or unreadable means none).
        let l2 = model == nil ? 0 : stored.metadata["l2"].flatMap(Float.init) ?? 0
        let directory = data.directory
        let training = try directory.load(.train)
        guard batch <= training.count else {
            throw ValidationError("--batch \(batch) exceeds the \(training.count) training images")
        }
        let images = try directory.location(of: MNISTSplit.train.imagesFile)
        if stored.preprocessing != .none {
            printDiagnostic("applying \(stored.preprocessing.rawValue), as the model was trained with it")
        }
        let prepared = stored.preprocessing.apply(to: training.slice(0 ..< batch))
        let costs = loss.map { [$0] } ?? LossFunction.allCases
        let comparisons = GradientCheck.compare(model: stored.model, batch: prepared, l2: l2, lossFunctions: costs)
        let slowdown =
            (LearningSlowdown.mostConfidentError(of: stored.model, in: prepared).map { [$0] } ?? [])
            + LearningSlowdown.constructed()
        let failures = comparisons.filter { !$0.passes }

        if json {
            let report = GradCheckReport(
                model: model, l2: l2, images: images, batch: batch,
                preprocessing: stored.preprocessing.rawValue, comparisons: comparisons,
                slowdown: slowdown, passed: failures.isEmpty)
            print(try report.jsonString())
        } else {
            printTables(comparisons, slowdown: slowdown, l2: l2, images: images, preprocessing: stored.preprocessing)
        }
        if !failures.isEmpty {
            printDiagnostic(
                "error: \(failures.count) of \(comparisons.count) gradient differences exceed their tolerance: "
                    + failures.map { "\($0.lossFunction.rawValue) \($0.first.rawValue) vs \($0.second.rawValue)" }
                    .joined(separator: ", "))
            throw ExitCode.failure
        }
    }

    private func printTables(
        _ comparisons: [GradientComparison], slowdown: [LearningSlowdown], l2: Float, images: String,
        preprocessing: Preprocessing
    ) {
        print("model      " + (model.map { "\($0), L2 λ = \(l2)" } ?? "the zero model (W = 0, b = 0), L2 λ = 0"))
        print(
            "batch      the first \(batch) training images of \(images)"
                + (preprocessing == .none ? "" : ", after \(preprocessing.rawValue)"))
        print(
            "gradients  kernel: fused, Float (training's); chain: explicit Jacobian chain rule, Double; fd: central differences, h = 1e-5, Double"
        )
        print(
            "difference max|a − b| / max(max|a|, max|b|, \(GradientCheck.scaleFloor)) over the 7,850 weights and biases"
        )
        print()
        let columns = GradientCheck.pairs.map { "\(Self.shortName($0.0))–\(Self.shortName($0.1))" }
        print("cost        " + columns.map { rightAligned($0, 14) }.joined())
        for lossFunction in LossFunction.allCases {
            let row = comparisons.filter { $0.lossFunction == lossFunction }
            guard !row.isEmpty else { continue }
            print(
                leftAligned(lossFunction.rawValue, 12)
                    + row.map {
                        rightAligned(formatted("%.2e", $0.relativeDifference) + ($0.passes ? "  " : " ✗"), 14)
                    }.joined())
        }
        let tolerances = GradientCheck.pairs.map { pair in
            pair.0.isSinglePrecision || pair.1.isSinglePrecision
                ? GradientCheck.floatTolerance : GradientCheck.doubleTolerance
        }
        print("tolerance   " + tolerances.map { rightAligned(formatted("%.0e", $0) + "  ", 14) }.joined())
        print()
        print("learning slowdown: ∂L/∂z_y on the true class y of a wrong answer, p = softmax(z)")
        print("sample                           y  pred      p_y   p_pred  cross-entropy  quadratic")
        for row in slowdown {
            print(
                leftAligned(row.sample, 30),
                rightAligned(String(row.label), 2), rightAligned(String(row.predicted), 5),
                rightAligned(formatted("%.2e", row.trueClassProbability), 8),
                rightAligned(formatted("%.4f", row.predictedProbability), 8),
                rightAligned(formatted("%.6f", row.crossEntropyGradient), 14),
                rightAligned(formatted("%.2e", row.quadraticGradient), 10))
        }
        print(
            "cross-entropy: p_y − 1, near −1 however wrong; quadratic: carries the factor p_y, so it vanishes as p_y → 0"
        )
    }

    static func shortName(_ method: GradientMethod) -> String {
        switch method {
        case .fusedKernel: "kernel"
        case .chainRule: "chain"
        case .finiteDifferences: "fd"
        }
    }
}

/// The `gradcheck --json` object.
struct GradCheckReport: Encodable {
    /// The model file; absent for the zero model.
    let model: String?
    let l2: Float
    let images: String
    let batch: Int
    let preprocessing: String
    let comparisons: [GradientComparison]
    let slowdown: [LearningSlowdown]
    let passed: Bool

    func jsonString() throws -> String {
        try JSONCoding.string(self)
    }
}
