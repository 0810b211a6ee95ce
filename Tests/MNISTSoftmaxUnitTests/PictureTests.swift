import Foundation
import MNISTSoftmax
import MNISTSoftmaxTestSupport
import Testing

struct PictureTests {
    static let black = RGBColor(red: 0, green: 0, blue: 0)

    @Test func fontGlyphsLandOnTheirPixelsAndWidthsFollowTheAdvance() {
        #expect(BitmapFont.width(of: "") == 0)
        #expect(BitmapFont.width(of: "7→2 99.5%", scale: 2) == (6 * 9 - 1) * 2)
        var image = RGBImage(width: 14, height: 9)
        image.draw("1L", x: 1, y: 1, color: Self.black)
        // "1": ..#.. .##.. ..#.. ..#.. ..#.. ..#.. .###.   "L" starts 6 columns further right.
        let one = ["..#..", ".##..", "..#..", "..#..", "..#..", "..#..", ".###."]
        let ell = ["#....", "#....", "#....", "#....", "#....", "#....", "#####"]
        for row in 0 ..< 7 {
            for column in 0 ..< 5 {
                let onePixel = Array(one[row])[column] == "#" ? Self.black : .white
                let ellPixel = Array(ell[row])[column] == "#" ? Self.black : .white
                #expect(image[x: 1 + column, y: 1 + row] == onePixel)
                #expect(image[x: 7 + column, y: 1 + row] == ellPixel)
            }
        }
        // Lower case is drawn as upper case, unknown characters as "?", and ink off the image is skipped.
        var lower = RGBImage(width: 5, height: 7), upper = RGBImage(width: 5, height: 7)
        lower.draw("l", x: 0, y: 0, color: Self.black)
        upper.draw("L", x: 0, y: 0, color: Self.black)
        #expect(lower == upper)
        var unknown = RGBImage(width: 5, height: 7), question = RGBImage(width: 5, height: 7)
        unknown.draw("é", x: 0, y: 0, color: Self.black)
        question.draw("?", x: 0, y: 0, color: Self.black)
        #expect(unknown == question)
        var clipped = RGBImage(width: 3, height: 3)
        clipped.draw("8", x: -2, y: -4, scale: 2, color: Self.black)
        #expect(clipped.pixels.contains(0))
    }

    @Test func heatmapShadesBySquareRootOfTheRowRate() {
        #expect(ConfusionHeatmap.color(rate: 0, onDiagonal: true) == .white)
        #expect(ConfusionHeatmap.color(rate: 1, onDiagonal: true) == ConfusionHeatmap.correctColor)
        #expect(ConfusionHeatmap.color(rate: 1, onDiagonal: false) == ConfusionHeatmap.errorColor)
        // rate 0.25 → t = 0.5: halfway from 255 to (178, 24, 43) = (216.5, 139.5, 149) → rounded.
        #expect(ConfusionHeatmap.color(rate: 0.25, onDiagonal: false) == RGBColor(red: 217, green: 140, blue: 149))
        #expect(ConfusionHeatmap.color(rate: 3, onDiagonal: true) == ConfusionHeatmap.correctColor)
    }

    @Test func heatmapCellsCarryTheirRowRateColours() {
        // Row 0: 90 right, 10 wrong; row 1: all 50 right; row 2 empty (white).
        let confusion = [[90, 10, 0], [0, 50, 0], [0, 0, 0]]
        let image = ConfusionHeatmap.render(confusion)
        let (w, h) = (ConfusionHeatmap.cellWidth, ConfusionHeatmap.cellHeight)
        // Three columns are narrower than the caption, which sets the width.
        #expect(
            image.width == ConfusionHeatmap.gridLeft
                + BitmapFont.width(of: "SHADE: SQUARE ROOT OF THE ROW RATE", scale: 2) + 24)
        func corner(_ row: Int, _ column: Int) -> RGBColor {
            image[x: ConfusionHeatmap.gridLeft + column * w + 3, y: ConfusionHeatmap.gridTop + row * h + 3]
        }
        #expect(corner(0, 0) == ConfusionHeatmap.color(rate: 0.9, onDiagonal: true))
        #expect(corner(0, 1) == ConfusionHeatmap.color(rate: 0.1, onDiagonal: false))
        #expect(corner(1, 1) == ConfusionHeatmap.correctColor)
        #expect(corner(2, 2) == .white && corner(0, 2) == .white)
        // The count is written in the cell: white ink on the dark diagonal cell of row 1.
        var cellColours = Set<RGBColor>()
        for y in ConfusionHeatmap.gridTop + h + 1 ..< ConfusionHeatmap.gridTop + 2 * h {
            for x in ConfusionHeatmap.gridLeft + w + 1 ..< ConfusionHeatmap.gridLeft + 2 * w {
                cellColours.insert(image[x: x, y: y])
            }
        }
        #expect(cellColours == [ConfusionHeatmap.correctColor, .white])
    }

    @Test func mostConfidentMistakesComeFirstAndTheMontageHasATilePerMistake() throws {
        // Only the bias matters on blank images: it makes class 3 the answer with p = e²/(e² + 9).
        var bias = [Float](repeating: 0, count: 10)
        bias[3] = 2
        let model = SoftmaxModel(weights: [Float](repeating: 0, count: 7840), bias: bias)
        let labels: [UInt8] = [3, 5, 3, 0, 9, 1, 2, 3]
        let data = try LabeledImages(
            pixels: [UInt8](repeating: 0, count: labels.count * 784), labels: labels, rows: 28, columns: 28)
        let mistakes = Misclassification.mostConfident(of: model, on: data, limit: 4)
        #expect(mistakes.map(\.index) == [1, 3, 4, 5], "equal probabilities keep index order")
        #expect(
            mistakes.allSatisfy { $0.predicted == 3 && abs(Double($0.probability) - exp(2.0) / (exp(2.0) + 9)) < 1e-6 })
        #expect(mistakes.map(\.label) == [5, 0, 9, 1])
        #expect(Misclassification.mostConfident(of: model, on: data, limit: 50).count == 5)

        let montage = MisclassificationMontage.render(mistakes, images: data)
        let tile = 28 * MisclassificationMontage.tileScale
        #expect(montage.width == MisclassificationMontage.columns * (tile + 14) + 14)
        #expect(montage.height == 36 + (tile + 34 + 14))
        // Blank MNIST images (no ink) are white tiles.
        #expect(montage[x: 14 + tile / 2, y: 36 + tile / 2] == .white)
        #expect(MisclassificationMontage.percentText(0.9996) == "99.9%")
        #expect(MisclassificationMontage.percentText(1) == "100.0%")
        #expect(MisclassificationMontage.percentText(0.07) == "7.0%")
    }
}
