import Foundation
import MNISTSoftmax
import Testing

struct SampleDigitTests {
    static let directory = RealMNIST.packageRoot + "/Resources/samples"

    @Test func committedSampleImagesAreExactlyWhatTheStrokeDrawerMakes() throws {
        let redraw = ProcessInfo.processInfo.environment["MNIST_SOFTMAX_REDRAW_SAMPLES"] == "1"
        if redraw { try FileManager.default.createDirectory(atPath: Self.directory, withIntermediateDirectories: true) }
        for sample in SampleDigit.all {
            let path = Self.directory + "/" + sample.fileName
            let drawn = sample.draw()
            if redraw { try sample.write(drawn, to: path) }
            #expect(sample.read(from: path) == drawn, "\(path) differs from what SampleDigits.swift draws")
        }
        let files = try FileManager.default.contentsOfDirectory(atPath: Self.directory).sorted()
        #expect(files == SampleDigit.all.map(\.fileName).sorted())
    }
}
