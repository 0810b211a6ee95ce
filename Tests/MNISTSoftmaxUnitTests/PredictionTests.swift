import Foundation
import MNISTSoftmax
import Testing

struct PredictionTests {
    /// A `width` × `height` grey image of `paper` with the rectangle at (x, y, w, h) in `ink`.
    static func rectangle(width: Int, height: Int, box: (x: Int, y: Int, w: Int, h: Int), ink: UInt8, paper: UInt8) -> GrayImage {
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
        let reference = try DigitPreprocessor.preprocess(gray: darkOnLight, alpha: Self.opaque(darkOnLight), path: "a.png")
        let inverted = try DigitPreprocessor.preprocess(gray: lightOnDark, alpha: Self.opaque(lightOnDark), path: "b.png")
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
        faint[x: 15, y: 15] = 106 // 22 levels darker than the background: below the minimum contrast of 32
        let error = thrownError(DigitImageError.self) {
            try DigitPreprocessor.preprocess(gray: faint, alpha: Self.opaque(faint), path: "faint.png")
        }
        #expect(error == DigitImageError(path: "faint.png", problem: .blank(contrast: 22)))
        #expect(error?.description.hasPrefix("faint.png: the image is blank") == true)
        let transparent = GrayImage(width: 30, height: 30, filledWith: 0)
        #expect(thrownError(DigitImageError.self) {
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
        #expect(thrownError(DatasetError.self) { try labels.image(at: 0, path: "l") }?.problem == .notAnImageFile(dimensions: [3]))
    }
}

/// `mnist-softmax predict` end to end.
struct PredictCommandTests {
    /// The zero model: every class has probability 0.1.
    static func zeroModel(in directory: String) throws -> String {
        let path = directory + "/zero.safetensors"
        try SafeTensorsFile.write(StoredModel(model: SoftmaxModel()), to: path)
        return path
    }

    @Test(.enabled(if: RealMNIST.directory != nil, RealMNIST.unavailableReason))
    func theDefaultModelGetsEverySampleDigitRight() throws {
        let model = try #require(RealMNIST.defaultModel)
        let files = SampleDigit.all.map { SampleDigitTests.directory + "/" + $0.fileName }
        let run = try CommandRun(["predict", "--model", model, "--json"] + files)
        #expect(run.status == 0, "\(run.standardError)")
        let results = try #require(try JSONSerialization.jsonObject(with: Data(run.standardOutput.utf8)) as? [[String: Any]])
        #expect(results.count == SampleDigit.all.count)
        for (sample, result) in zip(SampleDigit.all, results) {
            #expect(result["file"] as? String == SampleDigitTests.directory + "/" + sample.fileName)
            let top = try #require(result["top"] as? [[String: Any]])
            #expect(top.count == 3)
            #expect(top.first?["label"] as? Int == sample.digit, "\(sample.fileName): \(top)")
            let probabilities = top.compactMap { $0["probability"] as? Double }
            #expect(probabilities == probabilities.sorted(by: >) && probabilities[0] > 0.5, "\(sample.fileName): \(top)")
        }
    }

    @Test(.enabled(if: RealMNIST.directory != nil, RealMNIST.unavailableReason))
    func anMNISTTestImageIsClassifiedFromItsIDXFile() throws {
        let model = try #require(RealMNIST.defaultModel)
        let images = try DataDirectory(path: try #require(RealMNIST.directory)).location(of: .testImages)
        // Test image 0 is a 7.
        let run = try CommandRun(["predict", "--model", model, "--idx", images, "--index", "0"])
        #expect(run.status == 0, "\(run.standardError)")
        #expect(run.standardOutput.hasPrefix("\(images)[0]: 7 "), "\(run.standardOutput)")
        let outside = try CommandRun(["predict", "--model", model, "--idx", images, "--index", "10000"])
        #expect(outside.status == 1)
        #expect(outside.standardError.contains("has no image 10000; its images are numbered 0…9999"), "\(outside.standardError)")
    }

    @Test func textOutputListsThreeClassesAndJSONHasTheDocumentedShape() throws {
        let work = try makeScratchDirectory()
        defer { removeScratchDirectory(work) }
        let model = try Self.zeroModel(in: work)
        let image = SampleDigitTests.directory + "/digit-3-dark-on-light.png"
        let text = try CommandRun(["predict", "--model", model, image])
        #expect(text.status == 0, "\(text.standardError)")
        #expect(text.standardOutput == "\(image): 0 10.00%, 1 10.00%, 2 10.00%\n")
        let json = try CommandRun(["predict", "--model", model, "--json", image])
        let parsed = try #require(try JSONSerialization.jsonObject(with: Data(json.standardOutput.utf8)) as? [[String: Any]])
        #expect(parsed.count == 1)
        #expect(Set(parsed[0].keys) == ["file", "top"])
        let top = try #require(parsed[0]["top"] as? [[String: Any]])
        #expect(top.map { Set($0.keys) } == Array(repeating: ["label", "probability"], count: 3))
        #expect(top.compactMap { $0["probability"] as? Double }.allSatisfy { abs($0 - 0.1) < 1e-6 })
    }

    @Test func savePreprocessedWritesTheTwentyEightByTwentyEightInput() throws {
        let work = try makeScratchDirectory()
        defer { removeScratchDirectory(work) }
        let output = work + "/seen.png"
        let run = try CommandRun(["predict", "--model", try Self.zeroModel(in: work), "--save-preprocessed", output,
                                  SampleDigitTests.directory + "/digit-7-light-on-dark.png"])
        #expect(run.status == 0, "\(run.standardError)")
        let (gray, _) = try PNGFile.readGrayAndAlpha(output)
        #expect(gray.width == 28 && gray.height == 28)
        #expect(gray.pixels.max() == 255 && gray[x: 0, y: 0] == 0)
        let (columns, rows) = (Set(gray.pixels.indices.filter { gray.pixels[$0] > 0 }.map { $0 % 28 }),
                               Set(gray.pixels.indices.filter { gray.pixels[$0] > 0 }.map { $0 / 28 }))
        #expect(max(columns.count, rows.count) == 20)
    }

    @Test func blankAndEmptyFilesFailByNameWhileTheOthersAreStillClassified() throws {
        let work = try makeScratchDirectory()
        defer { removeScratchDirectory(work) }
        let blank = work + "/blank.png", empty = work + "/empty.png"
        try PNGFile.write(RGBImage(width: 40, height: 40), to: blank)
        try FileIO.writeAtomically([], to: empty)
        let good = SampleDigitTests.directory + "/digit-3-dark-on-light.png"
        let run = try CommandRun(["predict", "--model", try Self.zeroModel(in: work), "--json", blank, good, empty])
        #expect(run.status == 1)
        #expect(run.standardError.contains("\(blank): the image is blank"), "\(run.standardError)")
        #expect(run.standardError.contains("\(empty): cannot read PNG"), "\(run.standardError)")
        let parsed = try #require(try JSONSerialization.jsonObject(with: Data(run.standardOutput.utf8)) as? [[String: Any]])
        #expect(parsed.map { $0["file"] as? String } == [blank, good, empty])
        #expect(parsed.map { $0["top"] == nil } == [true, false, true])
        #expect(parsed.map { $0["error"] == nil } == [false, true, false])
    }

    @Test(arguments: [
        ["predict"],
        ["predict", "--idx", "t10k-images-idx3-ubyte"],
        ["predict", "--index", "3"],
        ["predict", "a.png", "--idx", "f", "--index", "0"],
        ["predict", "--idx", "f", "--index", "-1"],
        ["predict", "a.png", "b.png", "--save-preprocessed", "x.png"],
    ])
    func usageErrorsExitWithStatus64(arguments: [String]) throws {
        let run = try CommandRun(arguments)
        #expect(run.status == 64, "\(arguments): \(run.standardError)")
        #expect(run.standardOutput.isEmpty)
    }
}
