/// One header line, its name as sent (compare with `caseInsensitiveName`) and its value without
/// surrounding spaces.
package struct HeaderField: Equatable, Sendable {
    package let name: String
    package let value: String
}
