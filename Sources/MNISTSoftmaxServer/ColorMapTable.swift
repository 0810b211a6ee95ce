import MNISTSoftmax

/// The answer of GET /api/colormap: `DivergingColorMap` tabulated for the page, so that the page
/// and the PNG files colour a value with one definition, the library's.
///
/// `diverging[i]` is `DivergingColorMap.color(for: (i − 255) / 255)` as [red, green, blue], for
/// i = 0…510: every colour the map can give (its faded channel is round(255 (1 − |t|)), one of
/// 256 values on each side). The page looks t up at index round(255 (t + 1)) after clamping t to
/// [−1, 1], and shows NaN as t = 0.
struct ColorMapTable: Encodable {
    /// Steps on each side of 0: t = ±1 is `steps` away from the middle entry.
    static let steps = 255

    let diverging: [[UInt8]]

    init() {
        diverging = (-Self.steps ... Self.steps).map { step in
            let color = DivergingColorMap.color(for: Float(step) / Float(Self.steps))
            return [color.red, color.green, color.blue]
        }
    }
}
