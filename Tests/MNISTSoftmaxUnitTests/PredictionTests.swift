import Foundation
import MNISTSoftmax
import MNISTSoftmaxTestSupport
import Testing

struct PredictionTests {
    /// A `width` × `height` grey image of `paper` with the rectangle at (x, y, w, h) in `ink`.
    static func rectangle(width: Int, height: Int, box: (x: Int, y: Int, w: Int, h: Int), ink: UInt8, paper: UInt8)
        -> GrayImage
    {
        var image = GrayImage(width: width, height: height, filledWith: paper)
        for y in box.y ..< box.y + box.h {
            for x in box.x ..< box.x + box.w { image[x: x, y: y] = ink }
        }
        return image
    }

    static func opaque(_ image: GrayImage) -> GrayImage {
        GrayImage(width: image.width, height: image.height, filledWith: 255)
    }

    @Test func aSolidBarIsFittedToTwentyPixelsAndPlacedByItsCentreOfMass() throws {
        // A 40 × 80 block of ink off-centre in a 300 × 200 image → 10 × 20 of full ink. Its centre
        // of mass (4.5, 9.5) goes to (14, 14): left = round(9.5) = 10, top = round(4.5) = 5.
        let image = Self.rectangle(width: 300, height: 200, box: (200, 30, 40, 80), ink: 0, paper: 255)
        let digit = try DigitPreprocessor.preprocess(gray: image, alpha: Self.opaque(image), path: "bar.png")
        #expect(digit.wasInverted)
        #expect(digit.inkBox == (200, 30, 40, 80))
        #expect(digit.input.width == 28 && digit.input.height == 28)
        for y in 0 ..< 28 {
            for x in 0 ..< 28 {
                let inside = (10 ..< 20).contains(x) && (5 ..< 25).contains(y)
                #expect(digit.input[x: x, y: y] == (inside ? 255 : 0), "pixel (\(x), \(y))")
            }
        }
    }

    @Test func areaAveragingAntiAliasesAndKeepsTheCentreOfMassNearFourteen() throws {
        // A 3-pixel-wide diagonal stroke in 97 × 61: the longer side becomes 20, the shorter
        // round(20 · 61 / 97) = 13, with grey edges.
        var image = GrayImage(width: 97, height: 61, filledWith: 0)
        for x in 0 ..< 97 {
            let y = x * 58 / 96
            for dy in 0 ..< 3 { image[x: x, y: y + dy] = 200 }
        }
        let digit = try DigitPreprocessor.preprocess(gray: image, alpha: Self.opaque(image), path: "stroke.png")
        #expect(!digit.wasInverted)
        let pixels = digit.input.pixels
        #expect(pixels.max() == 255)
        #expect(pixels.contains { $0 > 0 && $0 < 255 }, "edges are anti-aliased")
        var mass = 0.0, sumX = 0.0, sumY = 0.0
        var columns = Set<Int>(), rows = Set<Int>()
        for y in 0 ..< 28 {
            for x in 0 ..< 28 where pixels[y * 28 + x] > 0 {
                let value = Double(pixels[y * 28 + x])
                (mass, sumX, sumY) = (mass + value, sumX + value * Double(x), sumY + value * Double(y))
                columns.insert(x)
                rows.insert(y)
            }
        }
        #expect(columns.count == 20 && rows.count == 13)
        #expect(abs(sumX / mass - 14) <= 0.5 && abs(sumY / mass - 14) <= 0.5)
    }

    @Test func polarityAndTransparencyDoNotChangeWhatTheModelSees() throws {
        let box = (x: 20, y: 10, w: 12, h: 30)
        let darkOnLight = Self.rectangle(width: 64, height: 48, box: box, ink: 10, paper: 250)
        let lightOnDark = Self.rectangle(width: 64, height: 48, box: box, ink: 245, paper: 5)
        let reference = try DigitPreprocessor.preprocess(
            gray: darkOnLight, alpha: Self.opaque(darkOnLight), path: "a.png")
        let inverted = try DigitPreprocessor.preprocess(
            gray: lightOnDark, alpha: Self.opaque(lightOnDark), path: "b.png")
        #expect(inverted.input == reference.input && !inverted.wasInverted && reference.wasInverted)
        // The same strokes, dark or light, on a fully transparent background.
        let alpha = Self.rectangle(width: 64, height: 48, box: box, ink: 255, paper: 0)
        for stroke: UInt8 in [10, 245] {
            let gray = Self.rectangle(width: 64, height: 48, box: box, ink: stroke, paper: 255 - stroke)
            let transparent = try DigitPreprocessor.preprocess(gray: gray, alpha: alpha, path: "c.png")
            #expect(transparent.input == reference.input, "stroke \(stroke)")
        }
    }

    @Test func blankAndTransparentImagesAreRefusedByName() {
        let grey = GrayImage(width: 30, height: 30, filledWith: 128)
        var faint = grey
        faint[x: 15, y: 15] = 106  // 22 levels darker than the background: below the minimum contrast of 32
        let error = thrownError(DigitImageError.self) {
            try DigitPreprocessor.preprocess(gray: faint, alpha: Self.opaque(faint), path: "faint.png")
        }
        #expect(error == DigitImageError(path: "faint.png", problem: .blank(contrast: 22)))
        #expect(error?.description.hasPrefix("faint.png: the image is blank") == true)
        let transparent = GrayImage(width: 30, height: 30, filledWith: 0)
        #expect(
            thrownError(DigitImageError.self) {
                try DigitPreprocessor.preprocess(gray: grey, alpha: transparent, path: "clear.png")
            } == DigitImageError(path: "clear.png", problem: .fullyTransparent))
    }

    @Test func mostProbableClassesAreSortedAndTiesKeepLabelOrder() {
        // Bias only: logits (0, 2, 1, 2, 0, …) → classes 1 and 3 tie at the top, then 2.
        var bias = [Float](repeating: 0, count: 10)
        bias[1] = 2; bias[2] = 1; bias[3] = 2
        let model = SoftmaxModel(weights: [Float](repeating: 0, count: 7840), bias: bias)
        let top = model.mostProbableClasses(forPixels: [UInt8](repeating: 0, count: 784), count: 3)
        #expect(top.map(\.label) == [1, 3, 2])
        // softmax: e² / (2e² + e + 7)
        let expected = Float(exp(2.0) / (2 * exp(2.0) + exp(1.0) + 7))
        #expect(abs(top[0].probability - expected) < 1e-6)
        #expect(model.mostProbableClasses(forPixels: [UInt8](repeating: 0, count: 784), count: 12).count == 10)
    }

    @Test func imageAtIndexReadsOneImageAndNamesTheRangeWhenOutside() throws {
        let array = IDXArray(dimensions: [2, 2, 3], elements: .uint8([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]))
        #expect(try array.image(at: 1, path: "f") == GrayImage(width: 3, height: 2, pixels: [7, 8, 9, 10, 11, 12]))
        let error = thrownError(DatasetError.self) { try array.image(at: 2, path: "f") }
        #expect(error?.problem == .imageIndexOutOfRange(index: 2, count: 2))
        #expect(error?.description == "f: has no image 2; its images are numbered 0…1")
        let labels = IDXArray(dimensions: [3], elements: .uint8([1, 2, 3]))
        #expect(
            thrownError(DatasetError.self) { try labels.image(at: 0, path: "l") }?.problem
                == .notAnImageFile(dimensions: [3]))
    }
}
