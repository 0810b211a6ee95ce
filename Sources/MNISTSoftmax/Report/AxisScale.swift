#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A chart axis: a range that starts and ends on ticks, and ticks at a "nice" step, 1, 2 or 5
/// times a power of ten (Heckbert's rule, Graphics Gems I, 1990).
///
/// For data in [low, high]: the span is rounded up to a nice number, the step is the nice number
/// nearest span / (targetTickCount − 1), and the axis runs from ⌊low / step⌋·step to
/// ⌈high / step⌉·step. A range of zero width is widened by 5% of |low| (by 1 when low = 0) on
/// either side, so a single point still gets an axis.
public struct AxisScale: Equatable, Sendable {
    /// The first tick, at or below the data's minimum.
    public let lower: Double
    /// The last tick, at or above the data's maximum.
    public let upper: Double
    /// The distance between ticks: 1, 2 or 5 × 10ᵏ.
    public let step: Double

    /// The axis for data in `low ... high` (finite), with about `targetTickCount` ticks (≥ 2);
    /// `integerSteps` keeps the step at 1 or more, for counts such as epochs.
    public init(covering low: Double, _ high: Double, targetTickCount: Int = 6, integerSteps: Bool = false) {
        precondition(
            low.isFinite && high.isFinite && low <= high && targetTickCount >= 2, "an axis needs a finite range")
        var (low, high) = (low, high)
        if high - low <= Swift.max(low.magnitude, high.magnitude) * 1e-12 {
            let widening = low == 0 ? 1 : low.magnitude * 0.05
            (low, high) = (low - widening, high + widening)
        }
        let span = Self.niceNumber(high - low, rounding: false)
        var step = Self.niceNumber(span / Double(targetTickCount - 1), rounding: true)
        if integerSteps { step = Swift.max(step, 1) }
        self.step = step
        lower = (low / step).rounded(.down) * step
        upper = (high / step).rounded(.up) * step
    }

    /// A nice number near `value` (> 0): with `rounding`, the nearest of 1, 2, 5, 10 × 10ᵏ
    /// (thresholds 1.5, 3, 7); without, the smallest of them at or above `value`.
    public static func niceNumber(_ value: Double, rounding: Bool) -> Double {
        let exponent = log10(value).rounded(.down)
        let power = pow(10, exponent)
        let fraction = value / power
        let nice: Double
        if rounding {
            nice = fraction < 1.5 ? 1 : fraction < 3 ? 2 : fraction < 7 ? 5 : 10
        } else {
            nice = fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 5 ? 5 : 10
        }
        return nice * power
    }

    /// The tick values from `lower` to `upper`, each computed as lower + i·step and then
    /// rounded to the step's decimals, so that 0.1 + 0.2 shows as 0.3 (and −0 as 0).
    public var ticks: [Double] {
        let count = Int(((upper - lower) / step).rounded()) + 1
        let scale = pow(10, Double(decimals))
        return (0 ..< count).map { ((lower + Double($0) * step) * scale).rounded() / scale + 0 }
    }

    /// Decimals a tick label needs: none for a step of 1 or more, else as many as the step has.
    public var decimals: Int { Swift.max(0, -Int(log10(step).rounded(.down))) }

    /// `value` written with the axis's decimals: "0.25", "100".
    public func label(_ value: Double) -> String {
        formatted("%.\(decimals)f", value)
    }

    /// Where `value` falls between `lower` (0) and `upper` (1).
    public func fraction(_ value: Double) -> Double {
        (value - lower) / (upper - lower)
    }
}
