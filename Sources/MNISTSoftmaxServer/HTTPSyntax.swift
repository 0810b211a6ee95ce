/// The bytes and characters that delimit HTTP/1.1 lines and values (RFC 9112 §2.2, RFC 9110 §5.6.3),
/// for `trimming(where:)` (MNISTFormats).
enum HTTPSyntax {
    static let lineFeed = UInt8(ascii: "\n")
    static let carriageReturn = UInt8(ascii: "\r")

    /// Optional white space around a field value or list element: space or tab.
    static func isSpaceOrTab(_ scalar: Unicode.Scalar) -> Bool { scalar == " " || scalar == "\t" }

    /// White space as a media type may be padded with: tab, or a space separator of any script
    /// (Unicode general category Zs, which holds U+0020 and U+00A0).
    static func isWhitespace(_ scalar: Unicode.Scalar) -> Bool {
        scalar == "\t" || scalar.properties.generalCategory == .spaceSeparator
    }
}
