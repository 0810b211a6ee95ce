import ArgumentParser
import FoundationEssentials
import MNISTSoftmax

struct Inspect: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Describe an IDX file (raw or .gz) or a model file.",
        discussion: """
            For IDX: the header, element type, dimensions, count and the SHA-256 of the decompressed \
            content (the digest MNIST's publishers list), then ASCII art of the first images or the \
            first labels. For a model (safetensors): its tensors with their ranges, and its metadata. \
            The kind of file is told by its content, not its name.
            """)

    static let previewRange = 0 ... 10
    /// Dark to light: one character per pixel, ink 0…255 in ten steps.
    static let ramp = Array(" .:-=+*#%@")

    @Argument(help: ArgumentHelp("An IDX file or a safetensors model file.", valueName: "file"))
    var file: String

    @Option(help: ArgumentHelp("How many images to draw as ASCII art (0 to 10).", valueName: "n"))
    var preview: Int = 3

    func validate() throws {
        guard Self.previewRange.contains(preview) else { throw ValidationError("--preview must be between 0 and 10") }
    }

    func run() throws {
        let bytes = try FileIO.readAll(file)
        // A safetensors file opens with an 8-byte header length and then its JSON object; an IDX
        // file opens with two zero bytes, a gzip file with 1F 8B.
        if bytes.count > 8 && bytes[8] == UInt8(ascii: "{") && !Gzip.isGzip(bytes) {
            describeModel(try SafeTensorsFile.decode(bytes, path: file), byteCount: bytes.count)
        } else {
            describeIDX(try IDXArray.decode(bytes, path: file), byteCount: bytes.count, compressed: Gzip.isGzip(bytes))
        }
    }

    private func describeIDX(_ array: IDXArray, byteCount: Int, compressed: Bool) {
        let digest = array.contentSHA256
        let contentBytes = 4 + 4 * array.dimensions.count + array.elements.count * array.elementType.byteWidth
        let type = array.elementType
        print("file        \(file) (\(byteCount) bytes\(compressed ? ", gzip" : ""))")
        print("format      IDX, magic 0x0000" + formatted("%02X%02X", type.rawValue, array.dimensions.count))
        print(
            "dtype       \(type.name) (0x\(formatted("%02X", type.rawValue)), \(type.byteWidth) byte\(type.byteWidth == 1 ? "" : "s") big-endian)"
        )
        print("dimensions  \(array.dimensions.map(String.init).joined(separator: " × "))")
        if let count = array.imageCount {
            print("count       \(count) images of \(array.dimensions[1])×\(array.dimensions[2])")
        } else {
            print("count       \(array.elements.count) elements")
        }
        let known = MNISTFile.all.first { $0.sha256 == digest }.map { " (MNIST's \($0.name))" } ?? ""
        print("content     \(contentBytes) bytes, SHA-256 \(digest)\(known)")
        if let count = array.imageCount {
            previewImages(array, count: count)
        } else if case .uint8(let values) = array.elements, array.dimensions.count == 1 {
            previewLabels(values)
        }
    }

    /// The first images side by side, one character per pixel.
    private func previewImages(_ array: IDXArray, count: Int) {
        let shown = min(preview, count)
        guard shown > 0 else { return }
        let columns = array.dimensions[2]
        guard columns * shown <= 400 else {
            print("(images \(columns) pixels wide are too wide to preview)")
            return
        }
        // The array holds images and `shown` is within its count, so every index is valid.
        let images = (0 ..< shown).map { try! array.image(at: $0, path: file) }
        print()
        print("first \(shown) image\(shown == 1 ? "" : "s"), one character per pixel (\" \" none … \"@\" full ink):")
        // Each image gets a column as wide as itself or its caption, two spaces apart.
        let cellWidth = max(columns, "image \(shown - 1)".count)
        func row(_ cells: [String]) {
            let line = cells.map { leftAligned($0, cellWidth) }.joined(
                separator: "  ")
            print(String(line.reversed().drop { $0 == " " }.reversed()))
        }
        row(images.indices.map { "image \($0)" })
        for y in 0 ..< array.dimensions[1] {
            // Pixel v becomes ramp[⌊v · 10 / 256⌋].
            row(
                images.map { image in
                    String((0 ..< columns).map { x in Self.ramp[Int(image[x: x, y: y]) * Self.ramp.count / 256] })
                })
        }
    }

    /// The first labels and how often each value occurs.
    private func previewLabels(_ values: [UInt8]) {
        print(
            "first       " + values.prefix(20).map(String.init).joined(separator: " ") + (values.count > 20 ? " …" : "")
        )
        var counts: [UInt8: Int] = [:]
        for value in values { counts[value, default: 0] += 1 }
        print("values      " + counts.keys.sorted().map { "\($0): \(counts[$0]!)" }.joined(separator: ", "))
    }

    private func describeModel(_ stored: StoredModel, byteCount: Int) {
        print("file        \(file) (\(byteCount) bytes)")
        print(
            "format      safetensors"
                + (stored.metadata["format"].map {
                    ", \($0) format version \(stored.metadata["format_version"] ?? "?")"
                } ?? ""))
        print()
        print("tensor  dtype  shape       min        max        mean")
        for (name, values, shape) in [
            ("weight", stored.model.weights, "[10, 784]"), ("bias", stored.model.bias, "[10]"),
        ] {
            let mean = values.reduce(0.0) { $0 + Double($1) } / Double(values.count)
            print(
                leftAligned(name, 8) + "F32    "
                    + leftAligned(shape, 10)
                    + [Double(values.min()!), Double(values.max()!), mean].map {
                        rightAligned(formatted("%.4f", $0), 10)
                    }.joined(separator: " "))
        }
        guard !stored.metadata.isEmpty else {
            print()
            print("no metadata")
            return
        }
        print()
        print("metadata")
        let width = stored.metadata.keys.map(\.count).max()!
        for key in stored.metadata.keys.sorted() {
            print("  " + leftAligned(key, width) + "  " + stored.metadata[key]!)
        }
    }
}
