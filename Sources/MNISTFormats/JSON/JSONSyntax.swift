/// Where JSON text breaks, in the words of Foundation's `JSONSerialization` on Linux ("Invalid
/// value around character 12.", counting bytes from 0), for error messages about a file's JSON:
/// `JSONDecoder` says only that the data is not valid JSON.
///
/// A scan with the same rules as that parser: an object or array at the top level, nesting up
/// to 512 deep, trailing commas allowed, numbers without leading zeros, strings of valid UTF-8
/// without raw control characters, and `\uXXXX` escapes whose surrogates pair up.
package struct JSONSyntax {
    private let bytes: [UInt8]
    private var index = 0
    private var depth = 0

    /// The first syntax error in `bytes` (UTF-8 JSON) as a sentence, or nil when it is valid.
    package static func firstError(in bytes: [UInt8]) -> String? {
        var scan = JSONSyntax(bytes: bytes)
        do {
            try scan.document()
            return nil
        } catch {
            return error.message
        }
    }

    private init(bytes: [UInt8]) { self.bytes = bytes }

    private struct Failure: Error {
        let message: String

        static let endOfFile = Failure(message: "Unexpected end of file during JSON parse.")
        static func unexpected(at index: Int) -> Failure {
            Failure(message: "Invalid value around character \(index).")
        }
    }

    private static func isWhitespace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D
    }

    private func peek(_ offset: Int = 0) -> UInt8? {
        index + offset < bytes.count ? bytes[index + offset] : nil
    }

    /// The next byte, moving past it; nil (and the index at the end) when there is none.
    private mutating func next() -> UInt8? {
        guard index < bytes.count else {
            index = bytes.count
            return nil
        }
        defer { index += 1 }
        return bytes[index]
    }

    /// Skips whitespace; the byte after it, which stays unread.
    @discardableResult
    private mutating func skipWhitespace() throws(Failure) -> UInt8 {
        while let byte = peek() {
            if !Self.isWhitespace(byte) { return byte }
            index += 1
        }
        throw .endOfFile
    }

    private mutating func document() throws(Failure) {
        try skipWhitespace()
        let isContainer = peek() == UInt8(ascii: "{") || peek() == UInt8(ascii: "[")
        try value()
        while let byte = peek() {
            guard Self.isWhitespace(byte) else { throw .unexpected(at: index) }
            index += 1
        }
        guard isContainer else {
            throw Failure(
                message: "JSON text did not start with array or object and option to allow fragments not set.")
        }
    }

    private mutating func value() throws(Failure) {
        let byte = try skipWhitespace()
        switch byte {
        case UInt8(ascii: "\""): try string()
        case UInt8(ascii: "{"), UInt8(ascii: "["): try container(closedBy: byte + 2)
        case UInt8(ascii: "t"): try literal("true")
        case UInt8(ascii: "f"): try literal("false")
        case UInt8(ascii: "n"): try literal("null")
        case UInt8(ascii: "-"), UInt8(ascii: "0") ... UInt8(ascii: "9"): try number()
        default: throw .unexpected(at: index)
        }
    }

    /// An object (`close` is `}`) or array (`]`), from its opening bracket.
    private mutating func container(closedBy close: UInt8) throws(Failure) {
        index += 1
        guard depth < 512 else {
            throw Failure(message: "Too many nested arrays or dictionaries around character \(index).")
        }
        depth += 1
        defer { depth -= 1 }
        if try skipWhitespace() == close {
            index += 1
            return
        }
        while true {
            if close == UInt8(ascii: "}") {
                guard next() == UInt8(ascii: "\"") else { throw .unexpected(at: index - 1) }
                index -= 1
                try string()
                guard try skipWhitespace() == UInt8(ascii: ":") else { throw .unexpected(at: index) }
                index += 1
            }
            try value()
            switch try skipWhitespace() {
            case close:
                index += 1
                return
            case UInt8(ascii: ","):
                index += 1
                if try skipWhitespace() == close {
                    index += 1
                    return
                }
            default:
                throw .unexpected(at: index)
            }
        }
    }

    /// `true`, `false` or `null`, read byte by byte: a mismatch at the end of the text is the
    /// end of the file, elsewhere an invalid value at the mismatching byte.
    private mutating func literal(_ word: String) throws(Failure) {
        for expected in word.utf8 where next() != expected {
            guard index < bytes.count else { throw .endOfFile }
            throw .unexpected(at: index - 1)
        }
    }

    /// A string, from its opening quote to past its closing one.
    private mutating func string() throws(Failure) {
        index += 1
        var segmentStart = index
        while let byte = peek() {
            switch byte {
            case UInt8(ascii: "\""):
                try requireUTF8(segmentStart ..< index)
                index += 1
                return
            case 0 ... 31:
                try requireUTF8(segmentStart ..< index + 1)
                throw Failure(message: "Unescaped control character around character \(index).")
            case UInt8(ascii: "\\"):
                try requireUTF8(segmentStart ..< index)
                try escape()
                segmentStart = index
            default:
                index += 1
            }
        }
        throw .endOfFile
    }

    private func requireUTF8(_ range: Range<Int>) throws(Failure) {
        var decoder = UTF8()
        var iterator = bytes[range].makeIterator()
        while true {
            switch decoder.decode(&iterator) {
            case .scalarValue: continue
            case .emptyInput: return
            case .error:
                throw Failure(
                    message: "Invalid UTF-8 sequence \(range.count) bytes starting from character \(range.lowerBound).")
            }
        }
    }

    /// An escape sequence, from its backslash. A wrong one is reported as such once its bytes so
    /// far are valid UTF-8.
    private mutating func escape() throws(Failure) {
        let start = index
        index += 1
        guard let byte = next() else { throw .endOfFile }
        switch byte {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"),
            UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
            return
        case UInt8(ascii: "u"):
            let unit = try hexUnit()
            if unit & 0xFC00 == 0xD800 {
                let lowSurrogateMissing = Failure(
                    message:
                        "Unexpected end of file during string parse (expected low-surrogate code point but did not find one)."
                )
                guard let backslash = next(), let u = next() else { throw .endOfFile }
                guard backslash == UInt8(ascii: "\\"), u == UInt8(ascii: "u") else {
                    try requireUTF8(start ..< index)
                    throw lowSurrogateMissing
                }
                guard try hexUnit() & 0xFC00 == 0xDC00 else { throw lowSurrogateMissing }
            } else if unit & 0xFC00 == 0xDC00 {
                throw Failure(
                    message: "Unable to convert hex escape sequence (no high character) to UTF8-encoded character.")
            }
        default:
            try requireUTF8(start ..< index)
            throw Failure(message: "Invalid escape sequence around character \(index - 2).")
        }
    }

    /// The four hex digits after `\u`, as a UTF-16 code unit.
    private mutating func hexUnit() throws(Failure) -> UInt16 {
        let start = index
        guard index + 4 <= bytes.count else {
            index = bytes.count
            throw .endOfFile
        }
        let digits = bytes[index ..< index + 4]
        index += 4
        guard let unit = UInt16(String(decoding: digits, as: UTF8.self), radix: 16), digits.allSatisfy(\.isHexDigit)
        else {
            throw Failure(
                message: "Invalid hex encoded sequence in \"\(String(decoding: digits, as: UTF8.self))\" at \(start).")
        }
        return unit
    }

    /// A number: an optional minus, digits without a leading zero, an optional fraction and
    /// exponent, ended by whitespace, `,`, `]`, `}` or the end of the text.
    private mutating func number() throws(Failure) {
        enum Part { case integer, fraction, exponent, exponentSign }
        var part = Part.integer
        var digits = peek() == UInt8(ascii: "-") ? 0 : 1
        var leadingZero = peek() == UInt8(ascii: "0")
        var length = 1
        while let byte = peek(length) {
            switch byte {
            case UInt8(ascii: "0") ... UInt8(ascii: "9"):
                if leadingZero {
                    throw Failure(message: "Number with leading zero around character \(index + length).")
                }
                if byte == UInt8(ascii: "0") && digits == 0 && part == .integer { leadingZero = true }
                digits += 1
            case UInt8(ascii: "."):
                guard digits > 0, part == .integer else { throw .unexpected(at: index + length) }
                (part, digits, leadingZero) = (.fraction, 0, false)
            case UInt8(ascii: "e"), UInt8(ascii: "E"):
                guard digits > 0, part == .integer || part == .fraction else { throw .unexpected(at: index + length) }
                (part, digits, leadingZero) = (.exponent, 0, false)
            case UInt8(ascii: "+"), UInt8(ascii: "-"):
                guard digits == 0, part == .exponent else { throw .unexpected(at: index + length) }
                part = .exponentSign
            case 0x20, 0x09, 0x0A, 0x0D, UInt8(ascii: ","), UInt8(ascii: "]"), UInt8(ascii: "}"):
                guard digits > 0 else { throw .unexpected(at: index + length) }
                index += length
                return
            default:
                throw .unexpected(at: index + length)
            }
            length += 1
        }
        guard digits > 0 else { throw .endOfFile }
        index = bytes.count
    }
}

extension UInt8 {
    fileprivate var isHexDigit: Bool {
        (UInt8(ascii: "0") ... UInt8(ascii: "9")).contains(self)
            || (UInt8(ascii: "a") ... UInt8(ascii: "f")).contains(self)
            || (UInt8(ascii: "A") ... UInt8(ascii: "F")).contains(self)
    }
}
