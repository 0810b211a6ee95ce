/// Every refusal's body: {"error": message}.
struct ErrorResponse: Encodable {
    let error: String
}
