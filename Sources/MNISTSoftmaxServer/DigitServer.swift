import FlyingFox
import Foundation
import MNISTSoftmax

/// The HTTP routes of `mnist-softmax serve`: one page and a small JSON API around a stored model.
///
///     GET  /              the page (`DigitPage.html`), every asset inline
///     GET  /api/model     the model's metadata, weights W (10 × 784) and bias b (10)
///     POST /api/predict   body: the bytes of a PNG → what `predict` says of it, plus logits and
///                         the 28×28 image the model saw
///
/// Every answer other than the page is JSON; every refusal is `{"error": "..."}` with a 4xx status:
/// 404 for an unknown path, 405 (with `Allow`) for a wrong method, 413 for a body over
/// `maximumBodyByteCount`, 415 for a `Content-Type` that is not a PNG, 400 for an empty body or
/// bytes that libpng cannot decode (not a PNG, truncated, bad CRC or zlib data, more than
/// `maximumPixelCount` pixels), and 422 for a PNG with no digit in it (blank or transparent).
///
/// The model is read-only and shared by all requests, which FlyingFox serves concurrently, one task
/// per connection. What one request may allocate is bounded: its body by `maximumBodyByteCount`,
/// the decoded image by `maximumPixelCount` (checked from the PNG header, before any allocation),
/// and the number of bodies being read and decoded at once by `concurrentUploadLimit`.
public struct DigitServer: HTTPHandler {
    /// The largest request body accepted: 8 MiB.
    public static let maximumBodyByteCount = 8 << 20
    /// The largest image accepted, width × height: 2048 × 2048 pixels. Preprocessing takes about
    /// 14 bytes a pixel (grey, alpha and ink planes), about 60 MB for the largest image.
    public static let maximumPixelCount = 2048 * 2048
    /// How many request bodies are read and decoded at once; later ones wait their turn.
    public static let concurrentUploadLimit = 8

    private let stored: StoredModel
    private let modelJSON: Data
    private let uploads = AsyncSemaphore(permits: concurrentUploadLimit)

    /// A server for `stored`, read from `modelPath` (which /api/model reports).
    public init(stored: StoredModel, modelPath: String) throws {
        self.stored = stored
        modelJSON = try Self.encoder.encode(ModelSummary(stored, path: modelPath))
    }

    public func handleRequest(_ request: HTTPRequest) async throws -> HTTPResponse {
        switch request.path {
        case "/":
            guard request.method == .GET else { return methodNotAllowed(request, allowed: "GET") }
            return HTTPResponse(statusCode: .ok,
                                headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-cache"],
                                body: Data(DigitPage.html.utf8))
        case "/api/model":
            guard request.method == .GET else { return methodNotAllowed(request, allowed: "GET") }
            return json(.ok, modelJSON)
        case "/api/predict":
            guard request.method == .POST else { return methodNotAllowed(request, allowed: "POST") }
            return await predict(request)
        default:
            return error(.notFound, "no such path: \(request.path); the page is at /, the API at /api/model and /api/predict")
        }
    }

    /// POST /api/predict: the PNG in the body, classified as `predict` classifies a PNG file.
    private func predict(_ request: HTTPRequest) async -> HTTPResponse {
        if let type = request.headers[.contentType]?.split(separator: ";").first?.trimmingCharacters(in: .whitespaces).lowercased(),
           !["image/png", "application/octet-stream"].contains(type) {
            return error(.unsupportedMediaType, "Content-Type is \(type); send the bytes of a PNG as image/png")
        }
        await uploads.wait()
        let response = await classifyBody(of: request)
        await uploads.signal()
        return response
    }

    /// The body of `request`, read up to the limit, decoded and classified.
    private func classifyBody(of request: HTTPRequest) async -> HTTPResponse {
        var body = [UInt8]()
        var received = 0
        do {
            // A body over the limit is still read to its end, but thrown away chunk by chunk: the
            // connection stays in step for its next request, and memory stays bounded. The server's
            // request timeout bounds how long a client can keep sending.
            for try await chunk in request.bodySequence {
                received += chunk.count
                if received <= Self.maximumBodyByteCount { body.append(contentsOf: chunk) } else { body = [] }
            }
        } catch {
            return self.error(.badRequest, "the request body could not be read: \(error)")
        }
        guard received <= Self.maximumBodyByteCount else {
            return error(.payloadTooLarge, "the request body has \(received) bytes, above the limit of "
                         + "\(Self.maximumBodyByteCount) (8 MiB); HINT: send a smaller PNG")
        }
        guard !body.isEmpty else {
            return error(.badRequest, "the request body is empty; send the bytes of a PNG image")
        }
        do {
            let (gray, alpha) = try PNGFile.readGrayAndAlpha(pngBytes: body, name: "request body",
                                                             maximumPixelCount: Self.maximumPixelCount)
            let (digit, classification) = try stored.classify(gray: gray, alpha: alpha, name: "request body")
            return json(.ok, try Self.encoder.encode(PredictionResponse(digit: digit, classification: classification)))
        } catch let failure as PNGError {
            return error(.badRequest, failure.description)
        } catch let failure as DigitImageError {
            return error(.unprocessableContent, failure.description)
        } catch {
            return self.error(.internalServerError, "\(error)")
        }
    }

    private func methodNotAllowed(_ request: HTTPRequest, allowed: String) -> HTTPResponse {
        var response = error(.methodNotAllowed, "\(request.method.rawValue) is not allowed on \(request.path); use \(allowed)")
        response.headers[HTTPHeader("Allow")] = allowed
        return response
    }

    private func error(_ status: HTTPStatusCode, _ message: String) -> HTTPResponse {
        json(status, (try? Self.encoder.encode(["error": message])) ?? Data())
    }

    private func json(_ status: HTTPStatusCode, _ body: Data) -> HTTPResponse {
        HTTPResponse(statusCode: status, headers: [.contentType: "application/json"], body: body)
    }

    /// The encoder `predict --json` uses, so that equal values print equally.
    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()
}

/// The answer of POST /api/predict.
struct PredictionResponse: Encodable {
    /// The most probable classes, as `predict --json` lists them.
    let top: [ClassProbability]
    /// p_k for k = 0…9.
    let probabilities: [Float]
    /// z_k = b_k + Σ_j W_kj x_j for k = 0…9.
    let logits: [Float]
    /// The 28×28 image the model saw: 28 rows of 28 values, 0 no ink … 255 full ink.
    let preprocessed: [[UInt8]]
    /// True when the PNG was dark on light and was inverted.
    let inverted: Bool

    init(digit: PreprocessedDigit, classification: DigitClassification) {
        top = classification.mostProbable()
        probabilities = classification.probabilities
        logits = classification.logits
        let input = classification.modelInput
        preprocessed = (0 ..< input.height).map { row in Array(input.pixels[row * input.width ..< (row + 1) * input.width]) }
        inverted = digit.wasInverted
    }
}

/// The answer of GET /api/model.
struct ModelSummary: Encodable {
    let path: String
    /// The file's metadata: training settings, test accuracy, preprocessing.
    let metadata: [String: String]
    let preprocessing: String
    /// W: 10 rows of 784 weights, row k the template of class k.
    let weights: [[Float]]
    /// b: 10 values.
    let bias: [Float]
    let maximumBodyBytes: Int
    let maximumPixels: Int

    init(_ stored: StoredModel, path: String) {
        self.path = path
        metadata = stored.metadata
        preprocessing = stored.preprocessing.rawValue
        let features = SoftmaxModel.featureCount
        weights = (0 ..< SoftmaxModel.classCount).map { k in Array(stored.model.weights[k * features ..< (k + 1) * features]) }
        bias = stored.model.bias
        maximumBodyBytes = DigitServer.maximumBodyByteCount
        maximumPixels = DigitServer.maximumPixelCount
    }

    enum CodingKeys: String, CodingKey {
        case path, metadata, preprocessing, weights, bias
        case maximumBodyBytes = "maximum_body_bytes"
        case maximumPixels = "maximum_pixels"
    }
}

/// A counting semaphore for tasks: `wait` suspends (it does not block a thread) while no permit is free.
actor AsyncSemaphore {
    private var permits: Int
    private var waiting: [CheckedContinuation<Void, Never>] = []

    init(permits: Int) { self.permits = permits }

    func wait() async {
        if permits > 0 {
            permits -= 1
            return
        }
        await withCheckedContinuation { waiting.append($0) }
    }

    func signal() {
        if waiting.isEmpty {
            permits += 1
        } else {
            waiting.removeFirst().resume()
        }
    }
}
