import Foundation

/// The server's one JSON style, for every answer and request body: Codable types whose Swift
/// names become snake_case keys ("maximumBodyBytes" → "maximum_body_bytes"), keys sorted, and
/// slashes as they are ("/api/model", not "\/api\/model").
enum ServerJSON {
    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()

    static let decoder: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return decoder
    }()
}

/// Every refusal's body: {"error": message}.
struct ErrorResponse: Encodable {
    let error: String
}
