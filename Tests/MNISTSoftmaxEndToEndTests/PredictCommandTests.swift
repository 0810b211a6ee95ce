import Foundation
import MNISTSoftmax
import MNISTSoftmaxTestSupport
import Testing

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
        let files = SampleDigit.all.map { SampleDigit.directory + "/" + $0.fileName }
        let run = try CommandRun(["predict", "--model", model, "--json"] + files)
        #expect(run.status == 0, "\(run.standardError)")
        let results = try #require(
            try JSONSerialization.jsonObject(with: Data(run.standardOutput.utf8)) as? [[String: Any]])
        #expect(results.count == SampleDigit.all.count)
        for (sample, result) in zip(SampleDigit.all, results) {
            #expect(result["file"] as? String == SampleDigit.directory + "/" + sample.fileName)
            let top = try #require(result["top"] as? [[String: Any]])
            #expect(top.count == 3)
            #expect(top.first?["label"] as? Int == sample.digit, "\(sample.fileName): \(top)")
            let probabilities = top.compactMap { $0["probability"] as? Double }
            #expect(
                probabilities == probabilities.sorted(by: >) && probabilities[0] > 0.5, "\(sample.fileName): \(top)")
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
        #expect(
            outside.standardError.contains("has no image 10000; its images are numbered 0…9999"),
            "\(outside.standardError)")
    }

    @Test func textOutputListsThreeClassesAndJSONHasTheDocumentedShape() throws {
        let work = try makeScratchDirectory()
        defer { removeScratchDirectory(work) }
        let model = try Self.zeroModel(in: work)
        let image = SampleDigit.directory + "/digit-3-dark-on-light.png"
        let text = try CommandRun(["predict", "--model", model, image])
        #expect(text.status == 0, "\(text.standardError)")
        #expect(text.standardOutput == "\(image): 0 10.00%, 1 10.00%, 2 10.00%\n")
        let json = try CommandRun(["predict", "--model", model, "--json", image])
        let parsed = try #require(
            try JSONSerialization.jsonObject(with: Data(json.standardOutput.utf8)) as? [[String: Any]])
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
        let run = try CommandRun([
            "predict", "--model", try Self.zeroModel(in: work), "--save-preprocessed", output,
            SampleDigit.directory + "/digit-7-light-on-dark.png",
        ])
        #expect(run.status == 0, "\(run.standardError)")
        let (gray, _) = try PNGFile.readGrayAndAlpha(output)
        #expect(gray.width == 28 && gray.height == 28)
        #expect(gray.pixels.max() == 255 && gray[x: 0, y: 0] == 0)
        let (columns, rows) = (
            Set(gray.pixels.indices.filter { gray.pixels[$0] > 0 }.map { $0 % 28 }),
            Set(gray.pixels.indices.filter { gray.pixels[$0] > 0 }.map { $0 / 28 })
        )
        #expect(max(columns.count, rows.count) == 20)
    }

    @Test func blankAndEmptyFilesFailByNameWhileTheOthersAreStillClassified() throws {
        let work = try makeScratchDirectory()
        defer { removeScratchDirectory(work) }
        let blank = work + "/blank.png", empty = work + "/empty.png"
        try PNGFile.write(RGBImage(width: 40, height: 40), to: blank)
        try FileIO.writeAtomically([], to: empty)
        let good = SampleDigit.directory + "/digit-3-dark-on-light.png"
        let run = try CommandRun(["predict", "--model", try Self.zeroModel(in: work), "--json", blank, good, empty])
        #expect(run.status == 1)
        #expect(run.standardError.contains("\(blank): the image is blank"), "\(run.standardError)")
        #expect(run.standardError.contains("\(empty): cannot read PNG"), "\(run.standardError)")
        let parsed = try #require(
            try JSONSerialization.jsonObject(with: Data(run.standardOutput.utf8)) as? [[String: Any]])
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
