#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import MNISTSoftmax
import MNISTSoftmaxTestSupport
import Testing

// Broken and hostile files handed to the real executable. Every file is built here, in a scratch
// folder; nothing reads MNIST.

/// The `mnist-softmax` executable started in the background, with its output going to files, so
/// that a test can watch its progress, signal it, and wait for it.
final class BackgroundCommand {
    let process = Process()
    private let scratch: URL
    private var outputURL: URL { scratch.appendingPathComponent("stdout") }
    private var errorURL: URL { scratch.appendingPathComponent("stderr") }

    /// Starts the executable with `arguments`, run through `wrapper` (a command such as
    /// `setpriv …` that then runs the executable) when one is given.
    init(_ arguments: [String], wrapper: [String] = []) throws {
        scratch = FileManager.default.temporaryDirectory.appendingPathComponent("run-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        try Data().write(to: outputURL)
        try Data().write(to: errorURL)
        let executable = CommandRun.executable.path
        process.executableURL = URL(fileURLWithPath: wrapper.first ?? executable)
        process.arguments = wrapper.isEmpty ? arguments : Array(wrapper.dropFirst()) + [executable] + arguments
        var environment = ProcessInfo.processInfo.environment
        environment[DataDirectory.environmentVariable] = nil
        process.environment = environment
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = try FileHandle(forWritingTo: outputURL)
        process.standardError = try FileHandle(forWritingTo: errorURL)
        try process.run()
    }

    deinit {
        if process.isRunning { process.terminate() }
        try? FileManager.default.removeItem(at: scratch)
    }

    /// What the command has written to standard error so far.
    var standardErrorSoFar: String {
        (try? String(contentsOf: errorURL, encoding: .utf8)) ?? ""
    }

    /// Polls standard error until it contains `text`, for at most `seconds`; false on timeout or
    /// when the command exits first.
    func waitForStandardError(containing text: String, seconds: Double) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if standardErrorSoFar.contains(text) { return true }
            if !process.isRunning { return standardErrorSoFar.contains(text) }
            usleep(10_000)
        }
        return false
    }

    /// Waits for the command to end, for at most `seconds` from this call: then it is killed and
    /// `CommandTimedOut` thrown. (A deadline here, rather than a time limit on the test, times
    /// the command alone, not the test's wait for a free thread while the whole suite runs.)
    func finish(within seconds: Double) throws
        -> (status: Int32, reason: Process.TerminationReason, standardOutput: String, standardError: String)
    {
        let deadline = Date().addingTimeInterval(seconds)
        while process.isRunning {
            guard Date() < deadline else {
                kill(process.processIdentifier, SIGKILL)
                process.waitUntilExit()
                throw CommandTimedOut(
                    seconds: seconds, arguments: process.arguments ?? [], standardError: standardErrorSoFar)
            }
            usleep(10_000)
        }
        process.waitUntilExit()
        return (
            process.terminationStatus, process.terminationReason,
            try String(contentsOf: outputURL, encoding: .utf8), try String(contentsOf: errorURL, encoding: .utf8)
        )
    }
}

/// A `BackgroundCommand` that was still running at its deadline, and was killed.
struct CommandTimedOut: Error, CustomStringConvertible {
    let seconds: Double
    let arguments: [String]
    let standardError: String
    var description: String {
        "still running after \(seconds) s, killed: \(arguments.joined(separator: " "))\n\(standardError)"
    }
}

/// A folder of test files, and the valid files that a case pairs with its broken one.
struct HostileFixture {
    let directory: String

    /// Writes `bytes` to `name` in the folder and returns its path.
    @discardableResult
    func write(_ name: String, _ bytes: [UInt8]) throws -> String {
        let path = directory + "/" + name
        try FileIO.writeAtomically(bytes, to: path)
        return path
    }

    /// A valid model file.
    func model() throws -> String {
        try write("model.safetensors", SafeTensorsFile.encode(StoredModel(model: SoftmaxModel())))
    }

    /// Two valid 28×28 images, raw IDX.
    func images() throws -> String {
        try write("images-idx3-ubyte", HostileFixture.images)
    }

    /// Two valid labels, raw IDX.
    func labels() throws -> String {
        try write("labels-idx1-ubyte", HostileFixture.labels)
    }

    /// `evaluate` with the given model and IDX pair, each a valid file unless given.
    func evaluate(model: String? = nil, images: String? = nil, labels: String? = nil) throws -> [String] {
        [
            "evaluate", "--model", try model ?? self.model(), "--images", try images ?? self.images(),
            "--labels", try labels ?? self.labels(),
        ]
    }

    static let images = imageArray(count: 2, rows: 28, columns: 28).encoded()
    static let labels = labelArray([3, 7]).encoded()

    /// A valid model file's bytes with its JSON header object replaced by `header`, the data
    /// section by `data`.
    static func modelFile(header: [String: Any], data: [UInt8]) -> [UInt8] {
        safetensorsBytes(header: header, data: data)
    }

    /// The header entries of a valid model, with `weight` and `bias` as given.
    static func tensors(
        weight: [String: Any]? = tensor("F32", [10, 784], 0, 31360),
        bias: [String: Any]? = tensor("F32", [10], 31360, 31400)
    ) -> [String: Any] {
        var header: [String: Any] = [:]
        header["weight"] = weight
        header["bias"] = bias
        return header
    }

    static func tensor(_ dtype: String, _ shape: [Int], _ begin: Int, _ end: Int) -> [String: Any] {
        ["dtype": dtype, "shape": shape, "data_offsets": [begin, end]]
    }

    /// The data section of a valid model: 7840 weights then 10 biases, with `replace` applied.
    static func modelData(_ replace: (inout [Float]) -> Void = { _ in }) -> [UInt8] {
        var values = [Float](repeating: 0.25, count: 7850)
        replace(&values)
        return littleEndianBytes(values)
    }
}

/// One broken input: how to make it, and what the tool must say.
struct HostileCase: Sendable, CustomTestStringConvertible {
    let name: String
    /// Exit status: 1 for a bad file, 64 for a usage error.
    var status: Int32 = 1
    /// Run the command as an unprivileged user (for permission cases; needs setpriv under root).
    var unprivileged = false
    /// Builds the files and returns the arguments and the path the error must name.
    let make: @Sendable (HostileFixture) throws -> (arguments: [String], culprit: String)
    /// Fragments of standard error that say what is wrong and where.
    let expected: [String]

    var testDescription: String { name }
}

/// IDX bytes: magic then big-endian dimensions.
private func header(_ type: UInt8, _ dimensions: [UInt32]) -> [UInt8] {
    idxHeader(type: type, dimensions: dimensions)
}

/// A case whose broken file is the image file of `evaluate`.
private func badImages(
    _ name: String, fileName: String = "bad-images-idx3-ubyte", _ bytes: @autoclosure @escaping @Sendable () -> [UInt8],
    _ expected: [String]
) -> HostileCase {
    HostileCase(
        name: name,
        make: { fixture in
            let path = try fixture.write(fileName, bytes())
            return (try fixture.evaluate(images: path), path)
        }, expected: expected)
}

/// A case whose broken file is the label file of `evaluate`.
private func badLabels(_ name: String, _ bytes: @autoclosure @escaping @Sendable () -> [UInt8], _ expected: [String])
    -> HostileCase
{
    HostileCase(
        name: name,
        make: { fixture in
            let path = try fixture.write("bad-labels-idx1-ubyte", bytes())
            return (try fixture.evaluate(labels: path), path)
        }, expected: expected)
}

/// A case whose broken file is the model file of `evaluate`.
private func badModel(_ name: String, _ bytes: @autoclosure @escaping @Sendable () -> [UInt8], _ expected: [String])
    -> HostileCase
{
    HostileCase(
        name: name,
        make: { fixture in
            let path = try fixture.write("bad.safetensors", bytes())
            return (try fixture.evaluate(model: path), path)
        }, expected: expected)
}

/// A case whose broken file is the image given to `predict`.
private func badPNG(
    _ name: String, _ bytes: @escaping @Sendable (HostileFixture) throws -> [UInt8], _ expected: [String]
) -> HostileCase {
    HostileCase(
        name: name,
        make: { fixture in
            let path = try fixture.write("digit.png", try bytes(fixture))
            return (["predict", "--model", try fixture.model(), path], path)
        }, expected: expected)
}

/// The bytes of a valid PNG of `image`.
private func pngBytes(_ image: GrayImage, in fixture: HostileFixture) throws -> [UInt8] {
    let path = fixture.directory + "/valid.png"
    try PNGFile.write(image, to: path)
    return try FileIO.readAll(path)
}

/// The gzip member of `content`, with one byte of its CRC-32 trailer flipped.
private func gzipWithBadCRC(_ content: [UInt8]) -> [UInt8] {
    var bytes = Gzip.compress(content)
    bytes[bytes.count - 8] ^= 0xFF
    return bytes
}

/// A decompression bomb: a gzip member holding a 1-image IDX followed by 64 MiB of zeros, then
/// a second member whose CRC is wrong. A reader that decompresses past what the header promises
/// (800 bytes) reports the bad CRC, or runs out of memory, instead of the trailing bytes.
private func decompressionBomb() -> [UInt8] {
    let image = imageArray(count: 1, rows: 28, columns: 28).encoded()
    return Gzip.compress(image + [UInt8](repeating: 0, count: 64 << 20), level: 9) + gzipWithBadCRC([1, 2, 3])
}

struct HostileInputTests {
    static let cases: [HostileCase] = [
        // IDX structure
        badImages("IDX empty file", [], ["truncated header: needs 4 bytes, the file has 0", "(byte 0)"]),
        badImages(
            "IDX truncated header", [0, 0, 8, 3, 0, 0],
            ["truncated header: needs 16 bytes, the file has 6", "(byte 6)"]),
        badImages(
            "IDX truncated payload", Array(HostileFixture.images.prefix(1000)),
            ["truncated payload: the header promises 1568 bytes of data, the file has 984", "(byte 1000)", "HINT:"]),
        badImages(
            "IDX bad magic", [0x12, 0x34, 0x56, 0x78] + [UInt8](repeating: 0, count: 12),
            ["bad magic at byte 0", "found 0x12 0x34 0x56 0x78", "HINT: this is not an IDX file"]),
        badImages("IDX unknown type code", header(0x0A, [2, 28, 28]), ["unknown element type 0x0A at byte 2"]),
        badImages("IDX ndims 0", [0, 0, 8, 0], ["0 dimensions at byte 3; expected 1 to 4"]),
        badImages("IDX ndims 5", header(8, [1, 1, 1, 28, 28]), ["5 dimensions at byte 3; expected 1 to 4"]),
        badImages(
            "IDX dimension product overflows", header(8, [.max, .max, .max]),
            ["dimensions 4294967295×4294967295×4294967295 overflow", "(byte 4)"]),
        badLabels(
            "IDX 4 billion items in a 100-byte file", header(8, [4_000_000_000]) + [UInt8](repeating: 1, count: 92),
            ["the header promises 4000000000 bytes of data, the file has 92", "(byte 100)"]),
        badLabels(
            "IDX 4 billion items in a 100-byte gzip file",
            Gzip.compress(header(8, [4_000_000_000]) + [UInt8](repeating: 1, count: 92)),
            [
                "the header promises 4000000000 bytes of data, but the compressed file can hold at most",
                "more (byte 8)", "HINT:",
            ]),
        badImages(
            "IDX trailing bytes", HostileFixture.images + [0, 0, 0],
            ["unexpected bytes after the payload the header describes (byte 1584)"]),
        badLabels("IDX label above 9", labelArray([3, 10]).encoded(), ["label 10 at index 1 is outside 0…9"]),
        badLabels(
            "IDX image and label counts differ", labelArray([3, 7, 1]).encoded(),
            ["has 3 labels but", "has 2 images", "HINT:"]),
        badImages(
            "IDX 32×32 images", imageArray(count: 2, rows: 32, columns: 32).encoded(),
            ["images are 32×32 = 1024 pixels; the model needs 28×28 = 784 inputs"]),
        HostileCase(
            name: "IDX no images of 2³²−1 × 2³²−1 pixels",
            make: { fixture in
                let path = try fixture.write("empty-images-idx3-ubyte", header(8, [0, .max, .max]))
                return (try fixture.evaluate(images: path, labels: fixture.write("empty-labels", header(8, [0]))), path)
            }, expected: ["images are 4294967295×4294967295 pixels; the model needs 28×28 = 784 inputs"]),
        badImages(
            "IDX float images",
            IDXArray(dimensions: [2, 28, 28], elements: .float32(.init(repeating: 0, count: 1568))).encoded(),
            ["holds float32 elements; expected unsigned byte"]),
        badImages(
            "IDX label file as images", HostileFixture.labels, ["has dimensions [2]; an image file has 3", "HINT:"]),
        HostileCase(
            name: "IDX no images at all",
            make: { fixture in
                let path = try fixture.write("empty-images-idx3-ubyte", header(8, [0, 28, 28]))
                return (try fixture.evaluate(images: path, labels: fixture.write("empty-labels", header(8, [0]))), path)
            }, expected: ["holds no images"]),

        // gzip
        badImages(
            "gzip truncated", fileName: "images.gz", Array(Gzip.compress(HostileFixture.images).dropLast(10)),
            ["gzip data ends early; the file is truncated (compressed byte", "HINT: run `mnist-softmax fetch`"]),
        badImages(
            "gzip bad CRC", fileName: "images.gz", gzipWithBadCRC(HostileFixture.images),
            ["corrupt gzip data: incorrect data check (compressed byte", "HINT: run `mnist-softmax fetch`"]),
        badImages(
            "gzip HTML page named .gz", fileName: "train-images-idx3-ubyte.gz",
            Array("<!DOCTYPE html>\n<html><head><title>404 Not Found</title></head></html>\n".utf8),
            ["bad magic at byte 0", "HTML page"]),
        badImages(
            "gzip garbage after the stream", fileName: "images.gz",
            Gzip.compress(HostileFixture.images) + Array("junk".utf8),
            ["unexpected bytes after the gzip stream"]),
        badImages(
            "gzip decompression bomb", fileName: "bomb.gz", decompressionBomb(),
            ["unexpected bytes after the payload the header describes (byte 800)"]),

        // the file system
        HostileCase(
            name: "directory where a data file should be",
            make: { fixture in
                let data = fixture.directory + "/data"
                try FileIO.createDirectory(data + "/train-images-idx3-ubyte")
                for file in [MNISTFile.trainLabels, .testImages, .testLabels] {
                    try fixture.write(
                        "data/" + file.name, file == .testImages ? HostileFixture.images : HostileFixture.labels)
                }
                return (
                    ["train", "--data-dir", data, "--model", fixture.directory + "/m.safetensors"],
                    data + "/train-images-idx3-ubyte"
                )
            }, expected: ["is a directory, expected a regular file"]),
        HostileCase(
            name: "FIFO where a data file should be",
            make: { fixture in
                let fifo = fixture.directory + "/fifo-images"
                guard mkfifo(fifo, 0o644) == 0 else {
                    throw FileAccessError(path: fifo, problem: .writeFailed(reason: "mkfifo"))
                }
                return (try fixture.evaluate(images: fifo), fifo)
            }, expected: ["is a FIFO, expected a regular file"]),
        HostileCase(
            name: "unreadable data file", unprivileged: true,
            make: { fixture in
                let path = try fixture.write("secret-images-idx3-ubyte", HostileFixture.images)
                chmod(path, 0)
                return (try fixture.evaluate(images: path), path)
            }, expected: ["cannot open: Permission denied"]),
        HostileCase(
            name: "missing data file",
            make: { fixture in
                let path = fixture.directory + "/no-such-images"
                return (try fixture.evaluate(images: path), path)
            }, expected: ["cannot open: No such file or directory"]),

        // model files
        badModel("model truncated", [1, 2, 3, 4, 5], ["truncated: 5 bytes"]),
        badModel(
            "model header length beyond the file", [100, 0, 0, 0, 0, 0, 0, 0] + Array("{}".utf8),
            ["header length 100 at byte 0 runs past the end of the 10-byte file"]),
        badModel(
            "model header length above the cap", [0, 0, 0, 0, 0, 1, 0, 0] + Array("{}".utf8),
            ["header length 1099511627776 at byte 0 exceeds the limit of 16777216 bytes"]),
        badModel(
            "model invalid JSON", [17, 0, 0, 0, 0, 0, 0, 0] + Array("{\"a\": [1, 2,, 3]}".utf8),
            ["the JSON header at byte 8 is invalid: not valid JSON: invalid value around character 12"]),
        badModel(
            "model missing bias",
            HostileFixture.modelFile(
                header: HostileFixture.tensors(bias: nil),
                data: Array(HostileFixture.modelData().prefix(31360))),
            ["no tensor \"bias\""]),
        badModel(
            "model F16 weights",
            HostileFixture.modelFile(
                header: HostileFixture.tensors(weight: HostileFixture.tensor("F16", [10, 784], 0, 31360)),
                data: HostileFixture.modelData()),
            ["tensor \"weight\" has dtype F16; expected F32"]),
        badModel(
            "model transposed weights",
            HostileFixture.modelFile(
                header: HostileFixture.tensors(weight: HostileFixture.tensor("F32", [784, 10], 0, 31360)),
                data: HostileFixture.modelData()),
            ["tensor \"weight\" has shape [784, 10]; expected [10, 784]"]),
        badModel(
            "model NaN weight",
            HostileFixture.modelFile(
                header: HostileFixture.tensors(),
                data: HostileFixture.modelData { $0[5] = .nan }),
            ["tensor \"weight\" holds a NaN or infinite value at element 5", "HINT:"]),
        badModel(
            "model infinite bias",
            HostileFixture.modelFile(
                header: HostileFixture.tensors(),
                data: HostileFixture.modelData { $0[7849] = -.infinity }),
            ["tensor \"bias\" holds a NaN or infinite value at element 9"]),
        badModel(
            "model trailing bytes",
            HostileFixture.modelFile(
                header: HostileFixture.tensors(),
                data: HostileFixture.modelData() + [0, 0, 0, 0]),
            ["the data section is 31404 bytes; the tensors need exactly 31400"]),
        badModel(
            "model from a newer format version",
            HostileFixture.modelFile(
                header: HostileFixture.tensors().merging([
                    "__metadata__": ["format": "mnist-softmax", "format_version": "2"]
                ]) { $1 },
                data: HostileFixture.modelData()),
            ["format version 2 is newer than this tool's 1", "HINT:"]),
        badModel(
            "model with a format version that is not a number",
            HostileFixture.modelFile(
                header: HostileFixture.tensors().merging(["__metadata__": ["format_version": "1.5"]]) { $1 },
                data: HostileFixture.modelData()),
            ["header entry \"__metadata__\": format_version \"1.5\" is not a positive whole number"]),
        HostileCase(
            name: "model path is a directory",
            make: { fixture in
                (try fixture.evaluate(model: fixture.directory), fixture.directory)
            }, expected: ["is a directory, expected a regular file"]),

        // PNG input to predict
        badPNG(
            "PNG that is an HTML page", { _ in Array("<html><body>404 Not Found</body></html>".utf8) },
            ["cannot read PNG: Not a PNG file"]),
        badPNG(
            "PNG truncated",
            { fixture in
                Array(try pngBytes(GrayImage(width: 64, height: 64, filledWith: 200), in: fixture).prefix(60))
            }, ["cannot read PNG", "truncated"]),
        badPNG(
            "PNG of 1×1 pixel",
            { fixture in try pngBytes(GrayImage(width: 1, height: 1, filledWith: 128), in: fixture) },
            ["the image is blank", "HINT:"]),
        badPNG(
            "PNG declaring 8192×8193 pixels", { _ in headerOnlyPNG(width: 8192, height: 8193) },
            ["8192×8193 = 67117056 pixels, above the limit of 67108864"]),

        // output paths
        HostileCase(
            name: "train into a directory",
            make: { fixture in
                // The data folder is empty: the target must be refused before the data is even looked for.
                (
                    ["train", "--data-dir", fixture.directory + "/nothing", "--model", fixture.directory],
                    fixture.directory
                )
            }, expected: ["is a directory; give a file name to write"]),
        HostileCase(
            name: "train without data",
            make: { fixture in
                (
                    [
                        "train", "--data-dir", fixture.directory + "/nothing", "--model",
                        fixture.directory + "/m.safetensors",
                    ],
                    fixture.directory + "/nothing"
                )
            },
            expected: [
                "no train-images-idx3-ubyte or train-images-idx3-ubyte.gz in the data directory",
                "HINT: run `mnist-softmax fetch --data-dir ",
            ]),
        HostileCase(
            name: "train into a missing folder",
            make: { fixture in
                let target = fixture.directory + "/missing/model.safetensors"
                return (["train", "--data-dir", fixture.directory + "/nothing", "--model", target], target)
            }, expected: ["the folder", "does not exist"]),
        HostileCase(
            name: "export a PNG onto a directory",
            make: { fixture in
                let output = fixture.directory + "/png"
                try FileIO.createDirectory(output + "/class-0.png")
                return (
                    ["export-weights", "--model", try fixture.model(), "--output-dir", output], output + "/class-0.png"
                )
            }, expected: ["is a directory; give a file name to write"]),

        // usage errors
        HostileCase(
            name: "usage: images without labels", status: 64,
            make: { fixture in
                (["evaluate", "--model", try fixture.model(), "--images", try fixture.images()], "--labels")
            }, expected: ["go together"]),
        HostileCase(
            name: "usage: non-numeric learning rate", status: 64,
            make: { _ in
                (["train", "--learning-rate", "fast"], "--learning-rate")
            }, expected: ["fast"]),
    ]

    /// The command that runs a case as an unprivileged user: none needed when the tests do not
    /// run as root; setpriv to nobody under root; nil under root without setpriv, where
    /// permission bits do not stop reads and such a case cannot be checked.
    static let unprivilegedWrapper: [String]? = {
        guard getuid() == 0 else { return [] }
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv") else { return nil }
        return ["/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
    }()

    // The deadline only guards against a hang (a FIFO read that blocks, say); how fast each
    // failure is found is measured elsewhere, never asserted in tests.
    @Test(arguments: cases.filter { !$0.unprivileged })
    func brokenInputFailsWithItsStatusNamingTheFileAndTheProblem(_ case_: HostileCase) throws {
        try check(case_, wrapper: [])
    }

    @Test(
        .enabled(
            if: unprivilegedWrapper != nil,
            "running as root, where permission bits do not stop reads, and there is no /usr/bin/setpriv to drop to nobody"
        ),
        arguments: cases.filter(\.unprivileged))
    func unreadableInputFailsWithItsStatusNamingTheFileAndTheProblem(_ case_: HostileCase) throws {
        try check(case_, wrapper: try #require(Self.unprivilegedWrapper))
    }

    /// Runs `case_` through `wrapper` (empty: directly) and checks its status, that it names the
    /// culprit and the problem, gives at most one hint, prints no results and leaves no temporary
    /// files.
    private func check(_ case_: HostileCase, wrapper: [String]) throws {
        let directory = try makeScratchDirectory("hostile")
        defer { removeScratchDirectory(directory) }
        if case_.unprivileged {
            // The unprivileged user must reach the folder and the other files in it.
            chmod(directory, 0o755)
        }
        let (arguments, culprit) = try case_.make(HostileFixture(directory: directory))
        let result = try BackgroundCommand(arguments, wrapper: wrapper).finish(within: 120)

        #expect(result.reason == .exit, "\(case_.name): killed by signal \(result.status)")
        #expect(result.status == case_.status, "\(case_.name): \(result.standardError)")
        #expect(result.standardOutput.isEmpty, "\(case_.name): results on stdout: \(result.standardOutput)")
        #expect(
            result.standardError.contains(culprit), "\(case_.name) does not name \(culprit): \(result.standardError)")
        for fragment in case_.expected {
            #expect(
                result.standardError.contains(fragment), "\(case_.name): no \"\(fragment)\" in: \(result.standardError)"
            )
        }
        let hints = result.standardError.components(separatedBy: "HINT:").count - 1
        #expect(hints <= 1, "\(case_.name): \(hints) hints in: \(result.standardError)")
        let leftovers = try FileManager.default.subpathsOfDirectory(atPath: directory).filter { $0.contains(".tmp-") }
        #expect(leftovers.isEmpty, "\(case_.name) left temporary files: \(leftovers)")
    }

    /// `prlimit --as=2GiB` as a command prefix.
    static let twoGiBAddressSpace = ["/usr/bin/prlimit", "--as=\(2 << 30)"]

    /// Whether the executable starts at all with its address space capped at 2 GiB: not in a
    /// sanitizer build, whose shadow memory needs terabytes of address space.
    static let executableStartsInTwoGiB: Bool = {
        guard FileManager.default.isExecutableFile(atPath: twoGiBAddressSpace[0]),
            let run = try? BackgroundCommand(["--help"], wrapper: twoGiBAddressSpace).finish(within: 60)
        else { return false }
        return run.reason == .exit && run.status == 0
    }()

    /// The 4-billion-item header must be refused before 4 GB is reserved, let alone touched: the
    /// command runs with its address space capped at 2 GiB (prlimit), where such a reservation
    /// would crash it instead of ending with status 1. The same command on a valid label file
    /// must succeed under the same cap, so that the refusal is the header's doing.
    @Test(
        .enabled(
            if: executableStartsInTwoGiB,
            "the executable cannot start with its address space capped at 2 GiB (a sanitizer build), or there is no /usr/bin/prlimit"
        ),
        arguments: [false, true])
    func fourBillionItemHeaderIsRefusedWithinTwoGiBOfAddressSpace(gzip: Bool) throws {
        let directory = try makeScratchDirectory("hostile")
        defer { removeScratchDirectory(directory) }
        let fixture = HostileFixture(directory: directory)
        let raw = header(8, [4_000_000_000]) + [UInt8](repeating: 1, count: 92)
        let huge = try fixture.write("huge-labels", gzip ? Gzip.compress(raw) : raw)
        let baseline = try BackgroundCommand(fixture.evaluate(), wrapper: Self.twoGiBAddressSpace).finish(within: 120)
        #expect(baseline.reason == .exit && baseline.status == 0, "\(baseline.standardError)")
        let refused = try BackgroundCommand(fixture.evaluate(labels: huge), wrapper: Self.twoGiBAddressSpace).finish(
            within: 120)
        #expect(refused.reason == .exit && refused.status == 1, "\(refused.standardError)")
        #expect(refused.standardError.contains("4000000000"), "\(refused.standardError)")
    }
}
