/// A blue–white–red colour map symmetric around zero, for signed values such as weights.
///
/// For t clamped to [−1, 1]:
///
///     t ≤ 0:  (red, green, blue) = (255·(1 + t), 255·(1 + t), 255)    blue at −1
///     t ≥ 0:  (red, green, blue) = (255, 255·(1 − t), 255·(1 − t))    red at +1
///
/// so −1 is pure blue (0, 0, 255), 0 is white (255, 255, 255) and +1 is pure red (255, 0, 0).
/// Channels are rounded to the nearest integer, halves away from zero: t = ±0.5 gives 127.5,
/// stored as 128, so +0.5 is (255, 128, 128) and −0.5 is (128, 128, 255). The map is symmetric:
/// the colour of −t is the colour of t with red and blue swapped.
public enum DivergingColorMap {
    /// The colour of `t`; values outside [−1, 1] are clamped, and NaN is shown as white (zero).
    public static func color(for t: Float) -> RGBColor {
        guard !t.isNaN else { return .white }
        let clamped = min(max(t, -1), 1)
        // The faded channels: 255 at t = 0, falling linearly to 0 at |t| = 1.
        let faded = UInt8((255 * (1 - clamped.magnitude)).rounded())
        return clamped < 0
            ? RGBColor(red: faded, green: faded, blue: 255)
            : RGBColor(red: 255, green: faded, blue: faded)
    }
}
