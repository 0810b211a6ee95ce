import Foundation
import MNISTSoftmax
import MNISTSoftmaxTestSupport
import Testing

/// (row mean, column mean, cov(r, c) / var(r)) of a 28×28 image, intensities as weights.
func moments(_ image: ArraySlice<UInt8>) -> (row: Double, column: Double, slant: Double) {
    var total = 0.0, sumR = 0.0, sumC = 0.0, sumRR = 0.0, sumRC = 0.0
    for (index, value) in image.enumerated() {
        let (r, c, v) = (Double(index / 28), Double(index % 28), Double(value))
        total += v; sumR += v * r; sumC += v * c; sumRR += v * r * r; sumRC += v * r * c
    }
    let (meanR, meanC) = (sumR / total, sumC / total)
    return (meanR, meanC, (sumRC / total - meanR * meanC) / (sumRR / total - meanR * meanR))
}

@Suite("Preprocessing")
struct PreprocessingTests {
    /// A 3-pixel-wide stroke leaning one column right per two rows, off centre.
    static func slantedStroke() throws -> LabeledImages {
        var pixels = [UInt8](repeating: 0, count: 784)
        for r in 4 ..< 24 {
            let c = 8 + (r - 4) / 2
            for dc in 0 ..< 3 { pixels[r * 28 + c + dc] = 255 }
        }
        return try LabeledImages(pixels: pixels, labels: [1], rows: 28, columns: 28)
    }

    @Test func deskewMakesASlantedStrokeUprightAndCentresIt() throws {
        let stroke = try Self.slantedStroke()
        let before = moments(stroke.pixels[...])
        let after = moments(Deskew.deskewed(stroke).pixels[...])
        print("[deskew] before \(before), after \(after)")
        #expect(abs(before.slant - 0.5) < 0.05, "the fixture leans half a column per row: \(before.slant)")
        #expect(abs(after.slant) < 0.05, "still slanted: \(after.slant)")
        #expect(abs(after.row - 14) < 0.5 && abs(after.column - 14) < 0.5, "centre of mass \(after)")
    }

    @Test func deskewLeavesBlankAndUprightImagesAlone() throws {
        let blank = try LabeledImages(pixels: [UInt8](repeating: 0, count: 784), labels: [0], rows: 28, columns: 28)
        #expect(Deskew.deskewed(blank).pixels == blank.pixels)
        // An upright bar centred on (14, 14) already: deskewing changes nothing.
        var bar = [UInt8](repeating: 0, count: 784)
        for r in 8 ..< 21 { bar[r * 28 + 14] = 200 }
        let upright = try LabeledImages(pixels: bar, labels: [1], rows: 28, columns: 28)
        #expect(Deskew.deskewed(upright).pixels == bar)
    }

    @Test func preprocessingAndLossAreReadBackFromTheModelFileAndUnknownValuesRefused() throws {
        try withTemporaryDirectory { directory in
            let path = directory + "/m.safetensors"
            try SafeTensorsFile.write(
                StoredModel(model: SoftmaxModel(), metadata: ["preprocessing": "deskew", "loss": "mse"]), to: path)
            let stored = try SafeTensorsFile.read(path)
            #expect(stored.preprocessing == .deskew && stored.lossFunction == .softmaxQuadratic)
            let plain = StoredModel(model: SoftmaxModel())
            #expect(plain.preprocessing == .none && plain.lossFunction == .softmaxCrossEntropy)

            try SafeTensorsFile.write(
                StoredModel(model: SoftmaxModel(), metadata: ["preprocessing": "unskew"]), to: path)
            let error = thrownError(ModelFileError.self) { try SafeTensorsFile.read(path) }
            #expect(
                error?.problem
                    == .unknownMetadataValue(key: "preprocessing", value: "unskew", expected: ["none", "deskew"]))
            #expect(error?.description.contains(path) == true)
        }
    }
}
