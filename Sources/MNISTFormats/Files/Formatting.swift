#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `arguments` formatted by C's printf rules (vsnprintf, in the C locale, so the decimal point
/// is "." as in Foundation's `String(format:)`): `formatted("%.4f", 0.25)` is "0.2500",
/// `formatted("%02X", 10)` is "0A".
package func formatted(_ format: String, _ arguments: any CVarArg...) -> String {
    let length = withVaList(arguments) { vsnprintf(nil, 0, format, $0) }
    guard length > 0 else { return "" }
    return withVaList(arguments) { list in
        String(unsafeUninitializedCapacity: Int(length) + 1) { buffer in
            buffer.withMemoryRebound(to: CChar.self) { characters in
                Int(vsnprintf(characters.baseAddress, characters.count, format, list))
            }
        }
    }
}

extension String {
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
    /// The text without its leading and trailing Unicode scalars that `isTrimmed` accepts:
    /// `" a b ".trimming(where: { $0 == " " })` is "a b"; "" when it accepts them all.
    package func trimming(where isTrimmed: (Unicode.Scalar) -> Bool) -> String {
        let scalars = unicodeScalars
        guard let first = scalars.firstIndex(where: { !isTrimmed($0) }),
            let last = scalars.lastIndex(where: { !isTrimmed($0) })
        else { return "" }
        return String(String.UnicodeScalarView(scalars[first ... last]))
    }
}
