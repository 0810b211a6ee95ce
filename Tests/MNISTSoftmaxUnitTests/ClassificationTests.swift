import Foundation
import MNISTSoftmax
import MNISTSoftmaxTestSupport
import Testing

/// The code path that `predict` and `serve` share: PNG bytes from memory, and `StoredModel.classify`.
struct ClassificationTests {
    /// A 60 × 40 light-grey picture with a dark bar, off-centre.
    static let picture = PredictionTests.rectangle(width: 60, height: 40, box: (40, 5, 6, 25), ink: 30, paper: 220)

    @Test func aPNGReadFromMemoryEqualsTheSameFileReadFromDisk() throws {
        try withTemporaryDirectory { directory in
            let path = directory + "/bar.png"
            try PNGFile.write(Self.picture, to: path)
            let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
            let fromFile = try PNGFile.readGrayAndAlpha(path)
            let fromMemory = try PNGFile.readGrayAndAlpha(pngBytes: bytes, name: "body")
            #expect(fromMemory.gray == fromFile.gray && fromMemory.alpha == fromFile.alpha)
            #expect(fromMemory.gray == Self.picture)
        }
    }

    @Test func aPNGFromMemoryAboveTheCallersPixelCapIsRefusedFromItsHeader() throws {
        // The header of a 3000 × 2000 image and an empty IDAT: 45 bytes declaring 6 million pixels.
        let declared = headerOnlyPNG(width: 3000, height: 2000)
        let error = try #require(
            thrownError(PNGError.self) {
                try PNGFile.readGrayAndAlpha(pngBytes: declared, name: "request body", maximumPixelCount: 2048 * 2048)
            })
        #expect(
            error.description
                == "request body: cannot read PNG: image is 3000×2000 = 6000000 pixels, above the limit of 4194304")
    }

    @Test func bytesThatAreNotAPNGNameTheSourceAndSayWhy() throws {
        let error = try #require(
            thrownError(PNGError.self) {
                try PNGFile.readGrayAndAlpha(pngBytes: Array("GIF89a, the start of a GIF".utf8), name: "request body")
            })
        #expect(error.description == "request body: cannot read PNG: Not a PNG file")
    }

    @Test func logitsAreWxPlusBAndTheirSoftmaxIsTheKernelsProbabilities() throws {
        let model = randomModel(scale: 0.05, seed: 11)
        let stored = StoredModel(model: model)
        let (_, classification) = try stored.classify(
            gray: Self.picture, alpha: PredictionTests.opaque(Self.picture), name: "bar")
        let x = classification.modelInput.pixels.map { Double($0) / 255 }
        let reference = ReferenceMath.logits(
            weights: model.weights.map(Double.init), bias: model.bias.map(Double.init), inputs: x)[0]
        let logitError = maxRelativeError(classification.logits.map(Double.init), reference)
        #expect(logitError < 1e-6, "largest relative difference \(logitError)")
        let probabilityError = maxRelativeError(
            classification.probabilities.map(Double.init), ReferenceMath.softmax(reference))
        #expect(probabilityError < 1e-5, "largest relative difference \(probabilityError)")
    }

    @Test func classifyingAPictureIsPreprocessingThenTheModelOnTheDeskewedInput() throws {
        // A stroke slanted one column right per two rows up, which deskewing straightens.
        var slanted = GrayImage(width: 60, height: 40, filledWith: 230)
        for y in 5 ..< 35 {
            for x in 0 ..< 5 { slanted[x: 20 + (40 - y) / 2 + x, y: y] = 20 }
        }
        let stored = StoredModel(
            model: randomModel(scale: 0.05, seed: 12), metadata: [StoredModel.preprocessingKey: "deskew"])
        let (digit, classification) = try stored.classify(
            gray: slanted, alpha: PredictionTests.opaque(slanted), name: "slant")
        #expect(
            digit
                == (try DigitPreprocessor.preprocess(
                    gray: slanted, alpha: PredictionTests.opaque(slanted), path: "slant")))
        let deskewed = Preprocessing.deskew.apply(toImage: digit.input.pixels, rows: 28, columns: 28)
        #expect(classification.modelInput.pixels == deskewed)
        #expect(classification.modelInput != digit.input, "deskewing should have straightened the stroke")
        #expect(classification.probabilities == stored.model.probabilities(forPixels: deskewed))
        #expect(classification.mostProbable() == stored.model.mostProbableClasses(forPixels: deskewed, count: 3))
        #expect(classification.mostProbable(10).map(\.label).sorted() == Array(0 ..< 10))
    }
}
