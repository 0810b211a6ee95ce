import Foundation

/// The bytes and characters that delimit HTTP/1.1 lines and values (RFC 9112 §2.2, RFC 9110 §5.6.3).
enum HTTPSyntax {
    static let lineFeed = UInt8(ascii: "\n")
    static let carriageReturn = UInt8(ascii: "\r")
    /// Optional white space around a field value or list element.
    static let spaceAndTab = CharacterSet(charactersIn: " \t")
}
