/// The confusion matrix as a picture: one cell per (true, predicted) pair with its count drawn
/// in it, coloured by the row-normalised rate r = count / (images of that true label).
///
/// Shade: t = √r, so that the small error rates (1–3%) that matter are visible beside the
/// diagonal's 90%+. Diagonal cells fade from white (t = 0) to `correctColor` (t = 1), the
/// others from white to `errorColor`. Counts are black on light cells and white on dark ones
/// (t > 0.6); zero counts are light grey. Rows are true labels (top to bottom, labelled on the
/// left under "TRUE"), columns predicted labels (left to right, under "PREDICTED").
///
/// Layout, in pixels: cells of `cellWidth` × `cellHeight`, the grid's top-left corner at
/// (`gridLeft`, `gridTop`), a two-line caption below it; text is `BitmapFont` at scale 2. The
/// picture is 24 pixels wider than the grid or the caption, whichever is wider.
public enum ConfusionHeatmap {
    public static let cellWidth = 64
    public static let cellHeight = 44
    public static let gridLeft = 76
    public static let gridTop = 64
    public static let correctColor = RGBColor(red: 33, green: 102, blue: 172)
    public static let errorColor = RGBColor(red: 178, green: 24, blue: 43)
    static let textScale = 2
    static let caption = ["SHADE: SQUARE ROOT OF THE ROW RATE", "BLUE: CORRECT   RED: ERRORS"]

    /// The colour of a cell whose row rate is `rate` (clamped to [0, 1]).
    public static func color(rate: Double, onDiagonal: Bool) -> RGBColor {
        let t = min(max(rate, 0), 1).squareRoot()
        let target = onDiagonal ? correctColor : errorColor
        func channel(_ value: UInt8) -> UInt8 { UInt8((255 - t * (255 - Double(value))).rounded()) }
        return RGBColor(red: channel(target.red), green: channel(target.green), blue: channel(target.blue))
    }

    /// confusion: (n, n) counts, [true][predicted], n ≥ 1; a row of zeros is drawn white.
    public static func render(_ confusion: [[Int]]) -> RGBImage {
        let n = confusion.count
        precondition(n > 0 && confusion.allSatisfy { $0.count == n }, "a confusion matrix is square")
        let lineHeight = BitmapFont.height(scale: textScale)
        let gridWidth = n * cellWidth, gridHeight = n * cellHeight
        let captionTop = gridTop + gridHeight + 16
        let captionWidth = caption.map { BitmapFont.width(of: $0, scale: textScale) }.max()!
        var image = RGBImage(
            width: gridLeft + max(gridWidth, captionWidth) + 24,
            height: captionTop + caption.count * (lineHeight + 6) + 10)
        let black = RGBColor(red: 0, green: 0, blue: 0)
        let grey = RGBColor(red: 110, green: 110, blue: 110)

        image.draw("PREDICTED", centeredAt: gridLeft + gridWidth / 2, y: 12, scale: textScale, color: black)
        // "TRUE" stacked letter by letter, centred on the grid's height, left of the row labels.
        let trueLabel = Array("TRUE")
        let stackTop = gridTop + gridHeight / 2 - trueLabel.count * (lineHeight + 4) / 2
        for (index, letter) in trueLabel.enumerated() {
            image.draw(String(letter), x: 12, y: stackTop + index * (lineHeight + 4), scale: textScale, color: black)
        }
        for label in 0 ..< n {
            image.draw(
                String(label), centeredAt: gridLeft + label * cellWidth + cellWidth / 2, y: gridTop - lineHeight - 8,
                scale: textScale, color: black)
            image.draw(
                String(label), x: gridLeft - BitmapFont.width(of: String(label), scale: textScale) - 12,
                y: gridTop + label * cellHeight + (cellHeight - lineHeight) / 2, scale: textScale, color: black)
        }
        for (row, counts) in confusion.enumerated() {
            let total = counts.reduce(0, +)
            for (column, count) in counts.enumerated() {
                let rate = total == 0 ? 0 : Double(count) / Double(total)
                let left = gridLeft + column * cellWidth, top = gridTop + row * cellHeight
                image.fill(
                    x: left, y: top, width: cellWidth, height: cellHeight,
                    color: color(rate: rate, onDiagonal: row == column))
                let textColor =
                    count == 0 ? RGBColor(red: 190, green: 190, blue: 190) : rate.squareRoot() > 0.6 ? .white : black
                image.draw(
                    String(count), centeredAt: left + cellWidth / 2, y: top + (cellHeight - lineHeight) / 2,
                    scale: textScale, color: textColor)
            }
        }
        // Thin grid lines between cells and a frame around the grid.
        for column in 0 ... n {
            image.fill(x: gridLeft + column * cellWidth, y: gridTop, width: 1, height: gridHeight + 1, color: grey)
        }
        for row in 0 ... n {
            image.fill(x: gridLeft, y: gridTop + row * cellHeight, width: gridWidth + 1, height: 1, color: grey)
        }
        for (index, line) in caption.enumerated() {
            image.draw(line, x: gridLeft, y: captionTop + index * (lineHeight + 6), scale: textScale, color: grey)
        }
        return image
    }
}
