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
