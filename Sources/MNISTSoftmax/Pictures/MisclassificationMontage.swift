/// A grid of misclassified images, each labelled "true→predicted" and the model's probability
/// for its wrong answer (cut to one decimal), with the image's index in its set below.
///
/// Each 28×28 image is shown as dark ink on white (255 − pixel), magnified `tileScale` times
/// by nearest-neighbour; tiles run left to right, then top to bottom, `columns` to a row, under
/// a one-line title. With no mistakes the montage is the title and "NO MISCLASSIFIED IMAGES".
public enum MisclassificationMontage {
    public static let tileScale = 4
    public static let columns = 6
    static let gap = 14
    static let titleHeight = 36
    static let labelHeight = 34

    /// The montage of `mistakes`, whose images are in `images` (28×28, at `Misclassification.index`).
    public static func render(_ mistakes: [Misclassification], images: LabeledImages) -> RGBImage {
        precondition(images.rows == 28 && images.columns == 28, "the montage shows 28×28 images")
        let tileSide = 28 * tileScale
        let rowCount = max(1, (mistakes.count + columns - 1) / columns)
        let pitchX = tileSide + gap, pitchY = tileSide + labelHeight + gap
        var image = RGBImage(width: columns * pitchX + gap, height: titleHeight + rowCount * pitchY)
        let black = RGBColor(red: 0, green: 0, blue: 0)
        image.draw("MOST CONFIDENT ERRORS (TRUE→PREDICTED, PROBABILITY)", x: gap, y: 12, scale: 2, color: black)
        if mistakes.isEmpty {
            image.draw("NO MISCLASSIFIED IMAGES", x: gap, y: titleHeight + 10, scale: 2, color: black)
        }
        for (position, mistake) in mistakes.enumerated() {
            let left = gap + (position % columns) * pitchX
            let top = titleHeight + (position / columns) * pitchY
            // image: (28, 28) u8 ink → (112, 112) grey, dark ink on white.
            let base = mistake.index * 784
            for y in 0 ..< 28 {
                for x in 0 ..< 28 {
                    let shade = 255 - images.pixels[base + y * 28 + x]
                    image.fill(
                        x: left + x * tileScale, y: top + y * tileScale, width: tileScale, height: tileScale,
                        color: RGBColor(red: shade, green: shade, blue: shade))
                }
            }
            image.draw(
                "\(mistake.label)→\(mistake.predicted) \(percentText(mistake.probability))", x: left,
                y: top + tileSide + 4,
                scale: 2, color: RGBColor(red: 178, green: 24, blue: 43))
            image.draw(
                "IMAGE \(mistake.index)", x: left, y: top + tileSide + 22, scale: 1,
                color: RGBColor(red: 110, green: 110, blue: 110))
        }
        return image
    }

    /// p as a percentage cut (not rounded) to one decimal, so that only p = 1 reads "100.0%".
    public static func percentText(_ probability: Float) -> String {
        let tenths = Int((Double(probability) * 1000).rounded(.down))
        return "\(tenths / 10).\(tenths % 10)%"
    }
}
