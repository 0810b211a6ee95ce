import FoundationEssentials
import RealModule

/// How the parameters are fitted.
public enum Optimizer: String, CaseIterable, Sendable {
    /// Minibatch stochastic gradient descent with momentum (or Nesterov momentum) and a
    /// learning-rate schedule.
    case sgd
    /// Full-batch L-BFGS: every step uses the exact objective and gradient over the whole
    /// training set, a history of recent steps for the curvature, and a Wolfe line search.
    case lbfgs
}

/// How SGD's learning rate changes from epoch to epoch.
public enum LearningRateSchedule: String, CaseIterable, Sendable {
    /// η in every epoch.
    case constant
    /// η · decay^(e − 1) in epoch e (from 1).
    case step
    /// η · ½ (1 + cos(π (e − 1) / E)) in epoch e of E: from η down towards 0 on a half cosine.
    case cosine
}

/// Everything that decides a training run. The defaults are those of plain
/// `mnist-softmax train`: 10 epochs of SGD, batch 100, η 0.4 decaying ×0.6 per epoch,
/// momentum 0.9, λ 1e-4, the softmax cross-entropy, seed 42.
public struct TrainingConfiguration: Sendable, Equatable {
    /// SGD or full-batch L-BFGS. Default SGD.
    public var optimizer = Optimizer.sgd
    /// The cost whose gradient is followed. Default the softmax cross-entropy.
    public var lossFunction = LossFunction.softmaxCrossEntropy
    /// λ in L = mean cost + (λ/2)‖W‖². The bias is not regularised. Default 1e-4.
    public var l2: Float = 1e-4
    /// Threads that share each pass, at most; a count above `SoftmaxTrainer.maximumThreads` (one
    /// per column shard of the kernels) is capped to it (`threadLimit`). Each thread owns a run of
    /// the column shards and takes over the others' remaining tasks once it is done with its own,
    /// and a pass uses fewer threads while other processes keep cores busy (unless
    /// `threadsFollowFreeCores` is false). The weights do not depend on it. Default: every core.
    public var threads = ProcessInfo.processInfo.activeProcessorCount
    /// When true, each pass uses only as many of `threadLimit` threads as other processes leave
    /// cores free; when false, always `threadLimit`. Default true.
    public var threadsFollowFreeCores = true
    /// With a validation set: stop once its loss has not improved for this many epochs (or L-BFGS
    /// iterations) and return the best weights. nil: run to the end and return the last weights.
    public var patience: Int?

    // SGD
    /// Passes over the training set. Default 10.
    public var epochs = 10
    /// Samples per gradient step, B. Default 100.
    public var batchSize = 100
    /// η at the first epoch. Default 0.4.
    public var learningRate: Float = 0.4
    /// μ in v ← μv − η∇L, W ← W + v. Default 0.9.
    public var momentum: Float = 0.9
    /// Nesterov's form: W ← W + μv − η∇L with the new v, the gradient step taken from the point
    /// momentum is heading to. Default false.
    public var nesterov = false
    /// The learning rate per epoch. Default `.step`.
    public var schedule = LearningRateSchedule.step
    /// The factor per epoch of the `.step` schedule. Default 0.6.
    public var learningRateDecay: Float = 0.6
    /// Seeds the per-epoch shuffle. The same seed gives bit-identical weights on any thread count.
    /// Default 42.
    public var seed: UInt64 = 42

    // L-BFGS
    /// Iterations (steps, each with a line search) at most. Default 1000.
    public var maxIterations = 1000
    /// Curvature pairs kept, m. Default 10.
    public var historySize = 10
    /// Stop when max_i |∂L/∂θ_i| falls to this. Default 1e-5 (scipy's L-BFGS-B default).
    public var gradientTolerance = 1e-5
    /// Stop when a step lowers the objective by at most this fraction of max(|L|, 1).
    /// Default 2.2e-9 (scipy's L-BFGS-B default, factr 1e7 × machine ε of Double).
    public var relativeTolerance = 2.2e-9

    public init() {}

    /// The most threads a pass uses: `threads`, at most `SoftmaxTrainer.maximumThreads`. Unlike
    /// the count of each pass, which follows the load of the machine, it depends only on the
    /// configuration; the model file records it as `threads`.
    public var threadLimit: Int { min(threads, SoftmaxTrainer.maximumThreads) }

    /// The SGD learning rate used during `epoch` (counted from 1).
    public func learningRate(atEpoch epoch: Int) -> Float {
        switch schedule {
        case .constant:
            return learningRate
        case .step:
            return (1 ..< max(epoch, 1)).reduce(learningRate) { rate, _ in rate * learningRateDecay }
        case .cosine:
            let progress = Float(max(epoch, 1) - 1) / Float(max(epochs, 1))
            return learningRate * (1 + Float.cos(Float.pi * progress)) / 2
        }
    }
}
