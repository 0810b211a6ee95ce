/// Limited-memory BFGS with a line search satisfying the strong Wolfe conditions
/// (Nocedal and Wright, *Numerical Optimization*, algorithms 7.4, 7.5, 3.5 and 3.6).
///
/// The inverse Hessian is never formed: the two-loop recursion applies it to the gradient from
/// the last m pairs s = x_{k+1} − x_k, y = ∇f_{k+1} − ∇f_k, scaled by γ = sᵀy / yᵀy. The line
/// search accepts α with f(x + αd) ≤ f(x) + c₁ α ∇fᵀd (enough decrease) and
/// |∇f(x + αd)ᵀd| ≤ c₂ |∇fᵀd| (the slope has flattened), with c₁ = 1e-4 and c₂ = 0.9.
public struct LBFGS: Sendable {
    /// Why the minimisation stopped.
    public enum Stop: String, Sendable {
        /// max |∇f| fell to the gradient tolerance.
        case gradientTolerance = "gradient tolerance"
        /// A step lowered f by at most the relative tolerance.
        case relativeTolerance = "relative loss tolerance"
        /// The iteration limit was reached.
        case maxIterations = "iteration limit"
        /// No step along the search direction met the Wolfe conditions: at the precision of the
        /// objective, the minimum has been reached.
        case lineSearchFailed = "no further decrease at the objective's precision"
        /// `afterIteration` asked to stop (early stopping).
        case requested = "early stopping"
    }

    /// f and ∇f at one point.
    public typealias Evaluation = (value: Double, gradient: [Double])

    /// Curvature pairs kept, m.
    public var historySize: Int
    /// Iterations at most.
    public var maxIterations: Int
    /// Stop when max_i |∂f/∂x_i| falls to this.
    public var gradientTolerance: Double
    /// Stop when a step lowers f by at most this fraction of max(|f|, 1).
    public var relativeTolerance: Double

    public init(historySize: Int, maxIterations: Int, gradientTolerance: Double, relativeTolerance: Double) {
        self.historySize = historySize
        self.maxIterations = maxIterations
        self.gradientTolerance = gradientTolerance
        self.relativeTolerance = relativeTolerance
    }

    /// Minimises `objective` from `start`. After each iteration, `afterIteration(k, x, f, α)` sees
    /// the iteration number (from 1), the new point, its value and the step length the line
    /// search accepted, and returns false to stop.
    /// Returns the last point, its value, and why it stopped.
    public func minimize(
        from start: [Double], objective: ([Double]) throws -> Evaluation,
        afterIteration: (Int, [Double], Double, Double) throws -> Bool
    ) rethrows -> (x: [Double], value: Double, stop: Stop) {
        var x = start
        var current = try objective(x)
        var history: [(s: [Double], y: [Double], rho: Double)] = []
        for iteration in 1 ... max(maxIterations, 1) {
            if current.gradient.maximumMagnitude <= gradientTolerance { return (x, current.value, .gradientTolerance) }
            var direction = searchDirection(gradient: current.gradient, history: history)
            var slope = dot(direction, current.gradient)
            if !(slope < 0) {
                // Not a descent direction (the curvature pairs went stale): restart from −∇f.
                history.removeAll()
                direction = current.gradient.map { -$0 }
                slope = dot(direction, current.gradient)
            }
            // The first step has no curvature to scale it: take a unit-length step.
            let initialStep = history.isEmpty ? min(1, 1 / direction.maximumMagnitude) : 1
            guard
                let (step, next) = try lineSearch(
                    from: x, current: current, direction: direction, slope: slope,
                    initialStep: initialStep, objective: objective)
            else {
                return (x, current.value, .lineSearchFailed)
            }
            let nextX = zip(x, direction).map { $0 + step * $1 }
            let s = zip(nextX, x).map(-), y = zip(next.gradient, current.gradient).map(-)
            let curvature = dot(s, y)
            if curvature > 0 {
                history.append((s, y, 1 / curvature))
                if history.count > historySize { history.removeFirst() }
            }
            let decrease = current.value - next.value
            x = nextX
            let previousValue = current.value
            current = next
            guard try afterIteration(iteration, x, current.value, step) else { return (x, current.value, .requested) }
            if decrease <= relativeTolerance * max(abs(previousValue), abs(current.value), 1) {
                return (x, current.value, .relativeTolerance)
            }
        }
        return (x, current.value, .maxIterations)
    }

    /// d = −H ∇f by the two-loop recursion over `history` (oldest first), H₀ = γI.
    private func searchDirection(gradient: [Double], history: [(s: [Double], y: [Double], rho: Double)]) -> [Double] {
        var q = gradient
        var alphas = [Double](repeating: 0, count: history.count)
        for i in history.indices.reversed() {
            alphas[i] = history[i].rho * dot(history[i].s, q)
            q.addProduct(-alphas[i], history[i].y)
        }
        if let last = history.last {
            let gamma = dot(last.s, last.y) / dot(last.y, last.y)
            q = q.map { gamma * $0 }
        }
        for i in history.indices {
            let beta = history[i].rho * dot(history[i].y, q)
            q.addProduct(alphas[i] - beta, history[i].s)
        }
        return q.map { -$0 }
    }

    /// A step α along `direction` meeting the strong Wolfe conditions, and f there; nil when
    /// none is found within 20 evaluations or the bracket shrinks to nothing.
    /// φ(α) = f(x + αd), φ′(α) = ∇f(x + αd)ᵀd; φ′(0) = `slope` < 0.
    private func lineSearch(
        from x: [Double], current: Evaluation, direction: [Double], slope: Double, initialStep: Double,
        objective: ([Double]) throws -> Evaluation
    ) rethrows -> (Double, Evaluation)? {
        let c1 = 1e-4, c2 = 0.9
        var evaluations = 0
        func phi(_ alpha: Double) throws -> (value: Double, slope: Double, evaluation: Evaluation) {
            evaluations += 1
            let evaluation = try objective(zip(x, direction).map { $0 + alpha * $1 })
            return (evaluation.value, dot(evaluation.gradient, direction), evaluation)
        }
        func sufficientDecrease(_ alpha: Double, _ value: Double) -> Bool {
            value <= current.value + c1 * alpha * slope
        }
        func curvatureHolds(_ slopeAtAlpha: Double) -> Bool { abs(slopeAtAlpha) <= -c2 * slope }

        // Algorithm 3.6: shrink [lo, hi], which holds a Wolfe point, by safeguarded cubic steps.
        func zoom(
            _ lowStart: (alpha: Double, value: Double, slope: Double),
            _ highStart: (alpha: Double, value: Double, slope: Double)
        ) throws -> (Double, Evaluation)? {
            var low = lowStart, high = highStart
            while evaluations < 20 {
                let width = high.alpha - low.alpha
                guard abs(width) > 1e-12 * max(abs(low.alpha), 1) else { return nil }
                var alpha = Self.cubicMinimizer(low, high) ?? (low.alpha + width / 2)
                // Keep the trial inside the middle 80% of the bracket.
                let lowerBound = min(low.alpha, high.alpha) + 0.1 * abs(width)
                let upperBound = max(low.alpha, high.alpha) - 0.1 * abs(width)
                if !(alpha >= lowerBound && alpha <= upperBound) { alpha = low.alpha + width / 2 }
                let trial = try phi(alpha)
                if !sufficientDecrease(alpha, trial.value) || trial.value >= low.value {
                    high = (alpha, trial.value, trial.slope)
                } else {
                    if curvatureHolds(trial.slope) { return (alpha, trial.evaluation) }
                    if trial.slope * width >= 0 { high = low }
                    low = (alpha, trial.value, trial.slope)
                }
            }
            return nil
        }

        // Algorithm 3.5: grow α until a Wolfe point is found or bracketed.
        var previous = (alpha: 0.0, value: current.value, slope: slope)
        var alpha = initialStep
        while evaluations < 20 {
            let trial = try phi(alpha)
            guard trial.value.isFinite else {
                // Too far: the objective overflowed. Bracket with the last finite point.
                alpha = previous.alpha + (alpha - previous.alpha) / 10
                continue
            }
            if !sufficientDecrease(alpha, trial.value) || (evaluations > 1 && trial.value >= previous.value) {
                return try zoom(previous, (alpha, trial.value, trial.slope))
            }
            if curvatureHolds(trial.slope) { return (alpha, trial.evaluation) }
            if trial.slope >= 0 { return try zoom((alpha, trial.value, trial.slope), previous) }
            previous = (alpha, trial.value, trial.slope)
            alpha *= 2
        }
        return nil
    }

    /// The minimiser of the cubic through (a, φ(a), φ′(a)) and (b, φ(b), φ′(b)) (Nocedal and
    /// Wright, equation 3.59), or nil when it has none.
    private static func cubicMinimizer(
        _ a: (alpha: Double, value: Double, slope: Double),
        _ b: (alpha: Double, value: Double, slope: Double)
    ) -> Double? {
        let d1 = a.slope + b.slope - 3 * (a.value - b.value) / (a.alpha - b.alpha)
        let discriminant = d1 * d1 - a.slope * b.slope
        guard discriminant >= 0 else { return nil }
        let d2 = (b.alpha > a.alpha ? 1.0 : -1.0) * discriminant.squareRoot()
        let denominator = b.slope - a.slope + 2 * d2
        guard denominator != 0 else { return nil }
        let alpha = b.alpha - (b.alpha - a.alpha) * (b.slope + d2 - d1) / denominator
        return alpha.isFinite ? alpha : nil
    }
}

/// Σ a_i b_i.
func dot(_ a: [Double], _ b: [Double]) -> Double {
    zip(a, b).reduce(0) { $0 + $1.0 * $1.1 }
}

extension [Double] {
    /// self += scale · other.
    mutating func addProduct(_ scale: Double, _ other: [Double]) {
        for i in indices { self[i] += scale * other[i] }
    }

    /// max_i |self_i|, 0 when empty.
    var maximumMagnitude: Double { reduce(0) { Swift.max($0, abs($1)) } }
}
