import Foundation
import MNISTSoftmax
import MNISTSoftmaxTestSupport
import Testing

struct InspectTests {
    @Test func anIDXImageFileShowsItsHeaderDigestAndASCIIArt() throws {
        let work = try makeScratchDirectory()
        defer { removeScratchDirectory(work) }
        // Two 3×4 images: a ramp and its reverse.
        let pixels: [UInt8] = (0 ..< 12).map { UInt8($0 * 23) } + (0 ..< 12).map { UInt8(255 - $0 * 23) }
        let path = work + "/tiny-images-idx3-ubyte"
        try FileIO.writeAtomically(IDXArray(dimensions: [2, 3, 4], elements: .uint8(pixels)).encoded(), to: path)
        let run = try CommandRun(["inspect", path])
        #expect(run.status == 0, "\(run.standardError)")
        let lines = run.standardOutput.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        #expect(lines.contains("format      IDX, magic 0x00000803"))
        #expect(lines.contains("dtype       unsigned byte (0x08, 1 byte big-endian)"))
        #expect(lines.contains("dimensions  2 × 3 × 4"))
        #expect(lines.contains("count       2 images of 3×4"))
        // The digest of the raw file is the digest of its content: checked with sha256sum.
        let shasum = try CommandRun([path], executable: URL(fileURLWithPath: "/usr/bin/sha256sum"))
        let digest = try #require(shasum.standardOutput.split(separator: " ").first)
        #expect(lines.contains("content     40 bytes, SHA-256 \(digest)"), "\(run.standardOutput)")
        // Ramp " .:-=+*#%@": pixel v is character ⌊v·10/256⌋; columns are as wide as "image 1".
        let art = Array(lines.drop { !$0.hasPrefix("image 0") }.prefix(4))
        #expect(art == ["image 0  image 1", "  .:     @@%#", "-=+*     *+=-", "#%%@     :."], "\(run.standardOutput)")
    }

    @Test func aGzipLabelFileShowsItsFirstLabelsAndTheirCounts() throws {
        let work = try makeScratchDirectory()
        defer { removeScratchDirectory(work) }
        let path = work + "/labels.gz"
        try FileIO.writeAtomically(
            Gzip.compress(IDXArray(dimensions: [5], elements: .uint8([7, 2, 1, 7, 0])).encoded()), to: path)
        let run = try CommandRun(["inspect", path])
        #expect(run.status == 0, "\(run.standardError)")
        #expect(run.standardOutput.contains(", gzip)"))
        #expect(run.standardOutput.contains("count       5 elements\n"))
        #expect(run.standardOutput.contains("first       7 2 1 7 0\n"))
        #expect(run.standardOutput.contains("values      0: 1, 1: 1, 2: 1, 7: 2\n"))
    }

    @Test func aModelFileShowsItsTensorsAndMetadata() throws {
        let work = try makeScratchDirectory()
        defer { removeScratchDirectory(work) }
        var bias = [Float](repeating: 0, count: 10)
        bias[9] = 0.5
        var weights = [Float](repeating: 0, count: 7840)
        weights[0] = -2
        let path = work + "/model.safetensors"
        try SafeTensorsFile.write(
            StoredModel(model: SoftmaxModel(weights: weights, bias: bias), metadata: ["seed": "42"]), to: path)
        let run = try CommandRun(["inspect", path])
        #expect(run.status == 0, "\(run.standardError)")
        let lines = run.standardOutput.split(separator: "\n").map(String.init)
        #expect(lines.contains("format      safetensors, mnist-softmax format version 1"))
        #expect(lines.contains("weight  F32    [10, 784]    -2.0000     0.0000    -0.0003"), "\(run.standardOutput)")
        #expect(lines.contains("bias    F32    [10]          0.0000     0.5000     0.0500"), "\(run.standardOutput)")
        #expect(lines.contains("  seed            42"), "\(run.standardOutput)")
    }

    @Test func aFileThatIsNeitherIsAnErrorNamingIt() throws {
        let work = try makeScratchDirectory()
        defer { removeScratchDirectory(work) }
        let path = work + "/page.html"
        try FileIO.writeAtomically(Array("<html>not found</html>".utf8), to: path)
        let run = try CommandRun(["inspect", path])
        #expect(run.status == 1)
        #expect(run.standardError.contains("\(path): bad magic at byte 0"), "\(run.standardError)")
        #expect(try CommandRun(["inspect", path, "--preview", "11"]).status == 64)
    }
}
