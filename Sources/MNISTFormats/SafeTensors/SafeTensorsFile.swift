import FoundationEssentials

/// A model file that cannot be read, naming the file and what is wrong with it (the problem
/// names the tensor, metadata key or header field).
public typealias ModelFileError = LocatedError<ModelFileProblem>

/// What is wrong with a model (safetensors) file.
public enum ModelFileProblem: FileProblem {
    /// Shorter than the 8-byte header length.
    case truncated(size: Int)
    /// The header length field exceeds the cap.
    case headerTooLarge(length: UInt64, maximum: Int)
    /// The header length field points past the end of the file.
    case headerPastEnd(length: UInt64, fileSize: Int)
    case invalidJSON(reason: String)
    case invalidEntry(name: String, reason: String)
    case missingTensor(name: String)
    case unexpectedTensor(name: String)
    case wrongDtype(name: String, found: String)
    case wrongShape(name: String, found: [Int], expected: [Int])
    /// Tensor data must tile the data section from 0 without gaps or overlaps.
    case nonContiguousOffsets(name: String, begin: Int, expected: Int)
    /// The data section is not exactly as long as the tensors need.
    case dataLengthMismatch(expected: Int, actual: Int)
    case nonFiniteValue(name: String, index: Int)
    case newerFormat(version: String, supported: Int)
    /// A metadata key this tool acts on holds a value it does not know.
    case unknownMetadataValue(key: String, value: String, expected: [String])

    public var message: String {
        switch self {
        case .truncated(let size):
            "truncated: \(size) bytes, a safetensors file starts with an 8-byte header length"
        case .headerTooLarge(let length, let maximum):
            "header length \(length) at byte 0 exceeds the limit of \(maximum) bytes"
        case .headerPastEnd(let length, let fileSize):
            "header length \(length) at byte 0 runs past the end of the \(fileSize)-byte file; the file is truncated or not a safetensors file"
        case .invalidJSON(let reason):
            "the JSON header at byte 8 is invalid: \(reason)"
        case .invalidEntry(let name, let reason):
            "header entry \"\(name)\": \(reason)"
        case .missingTensor(let name) where name.hasPrefix(SafeTensorsFile.velocityPrefix):
            "no tensor \"\(name)\"; a training checkpoint holds the weights and their velocity"
        case .missingTensor(let name):
            "no tensor \"\(name)\"; a model needs \"weight\" F32 [10, 784] and \"bias\" F32 [10]"
        case .unexpectedTensor(let name):
            "unexpected tensor \"\(name)\"; a model holds only \"weight\" and \"bias\""
        case .wrongDtype(let name, let found):
            "tensor \"\(name)\" has dtype \(found); expected F32"
        case .wrongShape(let name, let found, let expected):
            "tensor \"\(name)\" has shape \(found); expected \(expected)"
        case .nonContiguousOffsets(let name, let begin, let expected):
            "tensor \"\(name)\" starts at data offset \(begin); expected \(expected) (tensors must be contiguous)"
        case .dataLengthMismatch(let expected, let actual):
            "the data section is \(actual) bytes; the tensors need exactly \(expected)"
        case .nonFiniteValue(let name, let index):
            "tensor \"\(name)\" holds a NaN or infinite value at element \(index)"
        case .newerFormat(let version, let supported):
            "format version \(version) is newer than this tool's \(supported)"
        case .unknownMetadataValue(let key, let value, let expected):
            "metadata \"\(key)\" is \"\(value)\"; expected one of \(expected.joined(separator: ", "))"
        }
    }

    public var hint: String? {
        switch self {
        case .headerTooLarge: "this is probably not a safetensors file"
        case .missingTensor(let name) where name.hasPrefix(SafeTensorsFile.velocityPrefix):
            "this is a model, not a training checkpoint"
        case .unexpectedTensor(let name) where name.hasPrefix(SafeTensorsFile.velocityPrefix):
            "this is a training checkpoint, not a model; resume training from it"
        case .nonFiniteValue: "the model diverged when it was trained; train again with a smaller learning rate"
        case .newerFormat: "upgrade mnist-softmax to read it"
        case .unknownMetadataValue: "the model was made by a newer mnist-softmax, or edited"
        default: nil
        }
    }
}

/// The model file format: safetensors with two tensors, `weight` F32 [10, 784] and `bias` F32 [10]
/// (a training checkpoint adds `velocity.weight` and `velocity.bias`). Here the container: F32
/// tensors of the shapes a caller expects, and string metadata; the model's side is in
/// MNISTSoftmax (`StoredModel`).
///
/// Layout: an 8-byte little-endian header length N; N bytes of JSON, padded with spaces to a
/// multiple of 8; then the tensors' bytes, little-endian and row-major, at the `data_offsets` the
/// header gives (relative to the end of the header). `__metadata__` maps strings to strings.
public enum SafeTensorsFile {
    /// Written as `format_version` in the metadata; files from a newer version are refused.
    public static let formatVersion = 1
    /// The largest JSON header accepted: 16 MiB, far above what two tensors need.
    public static let maximumHeaderLength = 16 << 20

    /// The name prefix of the velocity tensors that only a training checkpoint holds.
    public static let velocityPrefix = "velocity."

    /// safetensors bytes for F32 `tensors`, stored in the order given, with `format` and
    /// `format_version` added to `metadata`.
    package static func encode(tensors: [(name: String, shape: [Int], values: [Float])], metadata: [String: String])
        -> [UInt8]
    {
        var metadata = metadata
        metadata["format"] = "mnist-softmax"
        metadata["format_version"] = String(formatVersion)
        var header: [String: HeaderValue] = [metadataKey: .metadata(metadata)]
        var offset = 0
        for tensor in tensors {
            header[tensor.name] = .tensor(
                TensorEntry(dtype: "F32", shape: tensor.shape, dataOffsets: [offset, offset + tensor.values.count * 4]))
            offset += tensor.values.count * 4
        }
        // Sorted keys make the bytes a function of the tensors and metadata alone.
        var json = [UInt8](try! JSONCoding.encoder.encode(header))
        json.append(contentsOf: [UInt8](repeating: UInt8(ascii: " "), count: (8 - json.count % 8) % 8))
        var bytes = [UInt8]()
        bytes.reserveCapacity(8 + json.count + offset)
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { bytes.append(contentsOf: $0) }
        bytes.append(contentsOf: json)
        for tensor in tensors {
            for value in tensor.values {
                withUnsafeBytes(of: value.bitPattern.littleEndian) { bytes.append(contentsOf: $0) }
            }
        }
        return bytes
    }

    /// Validates and decodes safetensors bytes holding exactly the F32 tensors of `tensorShapes`
    /// (name → shape), in any order; returns them by name, with the metadata. A metadata key of
    /// `allowedMetadata` must hold one of its values.
    package static func decode(
        _ bytes: [UInt8], path: String, expecting tensorShapes: [String: [Int]],
        allowedMetadata: [String: [String]]
    ) throws
        -> (tensors: [String: [Float]], metadata: [String: String])
    {
        func fail(_ problem: ModelFileError.Problem) -> ModelFileError { ModelFileError(path: path, problem: problem) }
        guard bytes.count >= 8 else { throw fail(.truncated(size: bytes.count)) }
        let headerLength = bytes.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) }
        guard headerLength <= UInt64(maximumHeaderLength) else {
            throw fail(.headerTooLarge(length: headerLength, maximum: maximumHeaderLength))
        }
        guard Int(headerLength) <= bytes.count - 8 else {
            throw fail(.headerPastEnd(length: headerLength, fileSize: bytes.count))
        }
        let dataStart = 8 + Int(headerLength)

        let json = Data(bytes[8 ..< dataStart])
        let header: [String: HeaderFields]
        do {
            header = try JSONCoding.decoder.decode([String: HeaderFields].self, from: json)
        } catch DecodingError.typeMismatch(_, let context) where context.codingPath.isEmpty {
            throw fail(.invalidJSON(reason: "the top level is not an object"))
        } catch {
            throw fail(.invalidJSON(reason: "not valid JSON" + syntaxErrorDetail(bytes[8 ..< dataStart])))
        }

        var metadata: [String: String] = [:]
        if let rawMetadata = header[metadataKey] {
            guard let strings = rawMetadata.strings else {
                throw fail(.invalidEntry(name: metadataKey, reason: "must map strings to strings"))
            }
            metadata = strings
        }
        if let version = metadata["format_version"] {
            guard let number = Int(version), number >= 1 else {
                throw fail(
                    .invalidEntry(
                        name: "__metadata__", reason: "format_version \"\(version)\" is not a positive whole number"))
            }
            guard number <= formatVersion else { throw fail(.newerFormat(version: version, supported: formatVersion)) }
        }
        for (key, allowed) in allowedMetadata.sorted(by: { $0.key < $1.key }) {
            if let value = metadata[key], !allowed.contains(value) {
                throw fail(.unknownMetadataValue(key: key, value: value, expected: allowed))
            }
        }

        // name → byte range in the data section
        var ranges: [(name: String, begin: Int, end: Int)] = []
        for (name, fields) in header.sorted(by: { $0.key < $1.key }) where name != metadataKey {
            guard let expectedShape = tensorShapes[name] else { throw fail(.unexpectedTensor(name: name)) }
            guard fields.isObject else { throw fail(.invalidEntry(name: name, reason: "is not an object")) }
            guard let dtype = fields.dtype else {
                throw fail(.invalidEntry(name: name, reason: "has no string \"dtype\""))
            }
            guard dtype == "F32" else { throw fail(.wrongDtype(name: name, found: dtype)) }
            guard let shape = fields.shape, shape.allSatisfy({ $0 >= 0 }) else {
                throw fail(.invalidEntry(name: name, reason: "\"shape\" is not a list of non-negative integers"))
            }
            guard shape == expectedShape else {
                throw fail(.wrongShape(name: name, found: shape, expected: expectedShape))
            }
            guard let offsets = fields.dataOffsets, offsets.count == 2, offsets[0] >= 0, offsets[1] >= offsets[0] else {
                throw fail(
                    .invalidEntry(name: name, reason: "\"data_offsets\" is not [begin, end] with 0 ≤ begin ≤ end"))
            }
            guard offsets[1] - offsets[0] == expectedShape.reduce(4, *) else {
                throw fail(
                    .invalidEntry(
                        name: name,
                        reason:
                            "data_offsets span \(offsets[1] - offsets[0]) bytes; F32 \(shape) needs \(expectedShape.reduce(4, *))"
                    ))
            }
            ranges.append((name, offsets[0], offsets[1]))
        }
        for name in tensorShapes.keys.sorted() where !ranges.contains(where: { $0.name == name }) {
            throw fail(.missingTensor(name: name))
        }
        var expectedBegin = 0
        for range in ranges.sorted(by: { $0.begin < $1.begin }) {
            guard range.begin == expectedBegin else {
                throw fail(.nonContiguousOffsets(name: range.name, begin: range.begin, expected: expectedBegin))
            }
            expectedBegin = range.end
        }
        guard bytes.count - dataStart == expectedBegin else {
            throw fail(.dataLengthMismatch(expected: expectedBegin, actual: bytes.count - dataStart))
        }

        func tensor(_ name: String) throws -> [Float] {
            let range = ranges.first { $0.name == name }!
            let values = bytes.withUnsafeBytes { raw in
                stride(from: dataStart + range.begin, to: dataStart + range.end, by: 4).map {
                    Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: $0, as: UInt32.self)))
                }
            }
            if let index = values.firstIndex(where: { !$0.isFinite }) {
                throw fail(.nonFiniteValue(name: name, index: index))
            }
            return values
        }
        var tensors: [String: [Float]] = [:]
        for name in tensorShapes.keys.sorted() { tensors[name] = try tensor(name) }
        return (tensors, metadata)
    }

    /// The header's key for the string metadata.
    static let metadataKey = "__metadata__"

    /// One tensor's header entry: `{"data_offsets":[begin,end],"dtype":"F32","shape":[…]}`.
    struct TensorEntry: Encodable {
        var dtype: String
        var shape: [Int]
        /// [begin, end) in the data section, which starts after the header.
        var dataOffsets: [Int]
    }

    /// A value of the header as written: the metadata, or a tensor's entry. The header is a
    /// dictionary of these, so its keys (tensor names, `__metadata__`) are written as they are.
    enum HeaderValue: Encodable {
        case metadata([String: String])
        case tensor(TensorEntry)

        func encode(to encoder: any Encoder) throws {
            var container = encoder.singleValueContainer()
            switch self {
            case .metadata(let strings): try container.encode(strings)
            case .tensor(let entry): try container.encode(entry)
            }
        }
    }

    /// A value of the header as read, leniently: each field the checks need, nil where the JSON
    /// holds something else, so that `decode` names the field that is wrong.
    struct HeaderFields: Decodable {
        /// The value as a map of strings to strings (what `__metadata__` must be).
        var strings: [String: String]?
        var isObject = false
        var dtype: String?
        var shape: [Int]?
        var dataOffsets: [Int]?

        enum CodingKeys: CodingKey { case dtype, shape, dataOffsets }

        init(from decoder: any Decoder) throws {
            strings = try? decoder.singleValueContainer().decode([String: String].self)
            guard let fields = try? decoder.container(keyedBy: CodingKeys.self) else { return }
            isObject = true
            dtype = try? fields.decode(String.self, forKey: .dtype)
            shape = try? fields.decode([Int].self, forKey: .shape)
            dataOffsets = try? fields.decode([Int].self, forKey: .dataOffsets)
        }
    }

    /// Where JSON that does not parse breaks, as ": invalid value around character 12" (counted
    /// from byte 8), or "". JSONDecoder says only that the data is not JSON; `JSONSyntax`, run
    /// on this error path alone, says where.
    private static func syntaxErrorDetail(_ json: ArraySlice<UInt8>) -> String {
        guard var sentence = JSONSyntax.firstError(in: Array(json)) else { return "" }
        while sentence.hasSuffix(".") { sentence.removeLast() }
        return ": " + sentence.prefix(1).lowercased() + sentence.dropFirst()
    }
}
