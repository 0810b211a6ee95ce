#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension String {
    /// `arguments` formatted by C's printf rules for `format` ("%.4f", "%.3g", "%.2f%%"), as
    /// Foundation's `String(format:)` formats numbers: `.` as the decimal point.
    package init(cFormat format: String, _ arguments: any CVarArg...) {
        var buffer = [CChar](repeating: 0, count: 64)
        while true {
            let needed = Int(withVaList(arguments) { vsnprintf(&buffer, buffer.count, format, $0) })
            guard needed >= buffer.count else { break }
            buffer = [CChar](repeating: 0, count: needed + 1)
        }
        self = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// The string padded on the left with `pad` to at least `width` characters.
    package func leftPadded(to width: Int, with pad: Character = "0") -> String {
        count >= width ? self : String(repeating: pad, count: width - count) + self
    }
}

extension BinaryInteger {
    /// `0x` and at least `digits` hex digits: 0x0A, 0x0000001f.
    package func hexLiteral(digits: Int, uppercase: Bool = true) -> String {
        "0x" + String(self, radix: 16, uppercase: uppercase).leftPadded(to: digits)
    }
}

extension Duration {
    /// The duration in seconds, as a Double.
    public var seconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) * 1e-18
    }
}

extension StringProtocol {
    /// Without the spaces and tabs at either end (tab and Unicode's space separators, the
    /// characters of Foundation's `CharacterSet.whitespaces`).
    package func trimmingSpacesAndTabs() -> String {
        func isSpace(_ scalar: Unicode.Scalar) -> Bool {
            scalar == "\t" || scalar.properties.generalCategory == .spaceSeparator
        }
        let scalars = unicodeScalars
        guard let first = scalars.firstIndex(where: { !isSpace($0) }) else { return "" }
        let last = scalars.lastIndex(where: { !isSpace($0) })!
        return String(String.UnicodeScalarView(scalars[first ... last]))
    }
}
