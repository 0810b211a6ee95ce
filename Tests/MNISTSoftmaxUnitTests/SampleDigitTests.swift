import Foundation
import MNISTSoftmax
import MNISTSoftmaxTestSupport
import Testing

struct SampleDigitTests {
    /// Compares each committed picture, as read before anything is written, with what the stroke
    /// drawer makes now. With MNIST_SOFTMAX_REDRAW_SAMPLES=1 a picture that differs is drawn
    /// again into Resources/samples, and the test still fails for it, naming it: look at the
    /// new picture, commit it, and run the tests again without the variable.
    @Test func committedSampleImagesAreExactlyWhatTheStrokeDrawerMakes() throws {
        let redraw = ProcessInfo.processInfo.environment["MNIST_SOFTMAX_REDRAW_SAMPLES"] == "1"
        if redraw {
            try FileManager.default.createDirectory(atPath: SampleDigit.directory, withIntermediateDirectories: true)
        }
        for sample in SampleDigit.all {
            let path = SampleDigit.directory + "/" + sample.fileName
            let drawn = sample.draw()
            let difference = Self.difference(between: sample.read(from: path), and: drawn)
            if redraw && difference != nil { try sample.write(drawn, to: path) }
            let redrawn = redraw ? "; drawn again: review and commit it" : ""
            #expect(
                difference == nil, "\(path) differs from what SampleDigits.swift draws: \(difference ?? "")\(redrawn)")
        }
        let files = try FileManager.default.contentsOfDirectory(atPath: SampleDigit.directory).sorted()
        #expect(files == SampleDigit.all.map(\.fileName).sorted())
    }

    /// How `committed` (the pixels read from the file, nil if unreadable) differs from `drawn`,
    /// or nil when they are equal.
    static func difference(between committed: [UInt8]?, and drawn: [UInt8]) -> String? {
        guard let committed else { return "the file is missing, not a PNG, or of another size" }
        let differences = zip(committed, drawn).map { abs(Int($0) - Int($1)) }.filter { $0 != 0 }
        guard !differences.isEmpty else { return nil }
        return "\(differences.count) of \(drawn.count) channel values differ, by up to \(differences.max()!)"
    }
}
