import Foundation
import MNISTSoftmax
import MNISTSoftmaxTestSupport
import Testing

/// The pictures of `mnist-softmax evaluate`, drawn by the executable.
struct PictureCommandTests {
    @Test(.enabled(if: RealMNIST.directory != nil, RealMNIST.unavailableReason))
    func evaluateDrawsTheHeatmapAndTheErrorMontageOfRealMNIST() throws {
        let model = try #require(RealMNIST.defaultModel)
        let work = try makeScratchDirectory()
        defer { removeScratchDirectory(work) }
        let (heatmap, errors) = (work + "/confusion.png", work + "/errors.png")
        let run = try CommandRun([
            "evaluate", "--data-dir", try #require(RealMNIST.directory), "--model", model,
            "--confusion-png", heatmap, "--errors-png", errors, "--error-count", "12",
        ])
        #expect(run.status == 0, "\(run.standardError)")
        let heatmapImage = try PNGFile.read(heatmap)
        #expect(heatmapImage.width == ConfusionHeatmap.gridLeft + 10 * ConfusionHeatmap.cellWidth + 24)
        // Every diagonal cell is mostly right (rate > 0.85), so its corner is a deep blue.
        for k in 0 ..< 10 {
            let corner = heatmapImage[
                x: ConfusionHeatmap.gridLeft + k * ConfusionHeatmap.cellWidth + 3,
                y: ConfusionHeatmap.gridTop + k * ConfusionHeatmap.cellHeight + 3]
            #expect(corner.blue > corner.red && corner.red < 70, "cell (\(k), \(k)): \(corner)")
        }
        let montage = try PNGFile.read(errors)
        #expect(montage.height == 36 + 2 * (28 * MisclassificationMontage.tileScale + 34 + 14))
        #expect(run.standardError.contains("wrote 12 misclassified images to \(errors)"))
    }

    @Test func evaluateRefusesADirectoryAsAPictureBeforeReadingTheModel() throws {
        let work = try makeScratchDirectory()
        defer { removeScratchDirectory(work) }
        let run = try CommandRun(["evaluate", "--model", work + "/missing.safetensors", "--confusion-png", work])
        #expect(run.status == 1)
        #expect(run.standardError.contains("\(work): is a directory"), "\(run.standardError)")
    }
}
