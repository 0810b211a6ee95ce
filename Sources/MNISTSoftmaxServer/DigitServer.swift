import FoundationEssentials
import MNISTSoftmax

/// The HTTP routes of `mnist-softmax serve`: one page and a small JSON API around a stored model.
///
///     GET  /              the page: index.html, with /page.css and /page.js (`PageAssets`)
///     GET  /api/colormap  the library's colour map, tabulated for the page (`ColorMapTable`)
///     GET  /api/model     the model's metadata, weights W (10 × 784), bias b (10) and the
///                         templates' colour scale
///     POST /api/predict   body: the bytes of a PNG → what `predict` says of it, plus logits and
///                         the 28×28 image the model saw
///
/// Every answer other than the page is JSON; every refusal is `{"error": "..."}` with a 4xx status:
/// 404 for an unknown path, 405 (with `Allow`) for a wrong method, 415 for a `Content-Type` that is
/// not a PNG, 400 for an empty body or bytes that libpng cannot decode (not a PNG, truncated, bad
/// CRC or zlib data, more than `maximumPixelCount` pixels), and 422 for a PNG with no digit in it
/// (blank or transparent). The HTTP layer under it (`ClientConnection`, `HTTPLimits`) answers 400,
/// 408, 413, 414, 431, 501 and 505 for requests that never reach a route.
///
/// The model is shared by all requests, which are served concurrently, one task per connection;
/// "Use this model" swaps it atomically (`CurrentModel`). The Train view's routes are
/// `TrainingJobs`'. What one request may allocate is bounded: its head and body by `HTTPLimits`, the
/// decoded image by `maximumPixelCount` (checked from the PNG header, before any allocation), and
/// the number of bodies being read and decoded at once by `HTTPLimits.concurrentBodyLimit`.
public struct DigitServer: HTTPRequestHandler {
    /// The largest request body accepted: 8 MiB.
    public static let maximumBodyByteCount = HTTPLimits().maximumBodyBytes
    /// The largest image accepted, width × height: 2048 × 2048 pixels. Preprocessing takes about
    /// 14 bytes a pixel (grey, alpha and ink planes), about 60 MB for the largest image.
    public static let maximumPixelCount = 2048 * 2048

    private let current: CurrentModel
    private let colorMapJSON: Data
    private let training: TrainingJobs

    /// A server for `stored`, read from `modelPath` (which /api/model reports), that trains on the
    /// MNIST files in `data` when the page asks, and stops a job nobody has watched for
    /// `unwatchedTimeout`.
    public init(stored: StoredModel, modelPath: String, data: DataDirectory, unwatchedTimeout: Duration = .seconds(30))
        throws
    {
        var limits = TrainingLimits()
        limits.unwatchedTimeout = unwatchedTimeout
        try self.init(stored: stored, modelPath: modelPath, data: data, trainingLimits: limits)
    }

    package init(stored: StoredModel, modelPath: String, data: DataDirectory, trainingLimits: TrainingLimits) throws {
        current = try CurrentModel(stored, path: modelPath)
        colorMapJSON = try JSONCoding.encoder.encode(ColorMapTable())
        training = TrainingJobs(data: TrainingDataSource(directory: data), limits: trainingLimits)
    }

    /// POST /api/predict with a PNG (or no) Content-Type, and POST /api/train and /api/race, read
    /// their bodies.
    func wantsBody(_ head: RequestHead) -> Bool {
        guard head.method == "POST" else { return false }
        switch head.path {
        case "/api/predict": return unsupportedContentType(head) == nil
        case "/api/train", "/api/race": return true
        default: return false
        }
    }

    func respond(to head: RequestHead, body: [UInt8]) async -> HTTPResponse {
        if let asset = PageAssets.byPath[head.path] {
            guard head.method == "GET" else { return methodNotAllowed(head, allowed: "GET") }
            return HTTPResponse(
                .ok,
                fields: [
                    HeaderField(name: "Content-Type", value: asset.contentType),
                    HeaderField(name: "Cache-Control", value: "no-cache"),
                ],
                body: asset.bytes)
        }
        switch head.path {
        case "/api/colormap":
            guard head.method == "GET" else { return methodNotAllowed(head, allowed: "GET") }
            return .json(.ok, colorMapJSON)
        case "/api/model":
            guard head.method == "GET" else { return methodNotAllowed(head, allowed: "GET") }
            return .json(.ok, current.value.summary)
        case "/api/predict":
            guard head.method == "POST" else { return methodNotAllowed(head, allowed: "POST") }
            if let type = unsupportedContentType(head) {
                return .error(.unsupportedMediaType, "Content-Type is \(type); send the bytes of a PNG as image/png")
            }
            return classify(body)
        case "/api/train":
            switch head.method {
            case "POST": return await training.start(body: body, racing: false)
            case "DELETE": return training.stop()
            default: return methodNotAllowed(head, allowed: "POST, DELETE")
            }
        case "/api/race":
            guard head.method == "POST" else { return methodNotAllowed(head, allowed: "POST") }
            return await training.start(body: body, racing: true)
        case "/api/train/defaults":
            guard head.method == "GET" else { return methodNotAllowed(head, allowed: "GET") }
            return .json(.ok, encoding: TrainingDefaults())
        case "/api/train/events":
            guard head.method == "GET" else { return methodNotAllowed(head, allowed: "GET") }
            return training.events()
        case "/api/train/model":
            guard head.method == "GET" else { return methodNotAllowed(head, allowed: "GET") }
            return training.modelFile(query: Self.query(of: head))
        case "/api/train/use":
            guard head.method == "POST" else { return methodNotAllowed(head, allowed: "POST") }
            return useTrainedModel(query: Self.query(of: head))
        default:
            return .error(
                .notFound,
                "no such path: \(head.path); the page is at /, the API at /api/model, /api/colormap, "
                    + "/api/predict and /api/train")
        }
    }

    /// POST /api/train/use: the trained model (of `?loss=` when racing) becomes the one the draw
    /// view predicts with; answers what GET /api/model now does.
    private func useTrainedModel(query: [String: String]) -> HTTPResponse {
        switch training.trainedModel(query: query) {
        case .failure(let refusal):
            return .error(refusal.status, refusal.message)
        case .success(let found):
            do {
                try current.replace(with: found.stored, path: found.job.fileName(of: found.cost))
            } catch {
                return .error(.internalServerError, "cannot describe the trained model: \(error)")
            }
            return .json(.ok, current.value.summary)
        }
    }

    /// The target's query as name → value (the first of each name), percent-decoded.
    private static func query(of head: RequestHead) -> [String: String] {
        let items = URLComponents(string: head.target)?.queryItems ?? []
        return items.reduce(into: [:]) { query, item in
            if query[item.name] == nil { query[item.name] = item.value ?? "" }
        }
    }

    /// The Content-Type's media type, lowercased, when it is neither image/png nor
    /// application/octet-stream; nil when it is one of those or absent.
    private func unsupportedContentType(_ head: RequestHead) -> String? {
        guard
            let type = head.field("Content-Type")?.split(separator: ";").first?
                .trimming(where: HTTPSyntax.isWhitespace).lowercased(),
            !["image/png", "application/octet-stream"].contains(type)
        else { return nil }
        return type
    }

    /// POST /api/predict: the PNG in the body, classified as `predict` classifies a PNG file.
    private func classify(_ body: [UInt8]) -> HTTPResponse {
        guard !body.isEmpty else {
            return .error(.badRequest, "the request body is empty; send the bytes of a PNG image")
        }
        do {
            let (gray, alpha) = try PNGFile.readGrayAndAlpha(
                pngBytes: body, name: "request body",
                maximumPixelCount: Self.maximumPixelCount)
            let (digit, classification) = try current.value.stored.classify(
                gray: gray, alpha: alpha, name: "request body")
            return .json(.ok, encoding: PredictionResponse(digit: digit, classification: classification))
        } catch let failure as PNGError {
            return .error(.badRequest, failure.description)
        } catch let failure as DigitImageError {
            return .error(.unprocessableContent, failure.description)
        } catch {
            return .error(.internalServerError, "\(error)")
        }
    }

    private func methodNotAllowed(_ head: RequestHead, allowed: String) -> HTTPResponse {
        var response = HTTPResponse.error(
            .methodNotAllowed, "\(head.method) is not allowed on \(head.path); use \(allowed)")
        response.fields.append(HeaderField(name: "Allow", value: allowed))
        return response
    }

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
        preprocessed = (0 ..< input.height).map { row in
            Array(input.pixels[row * input.width ..< (row + 1) * input.width])
        }
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
    /// The colour scale of the page's templates, the `export-weights` command's default.
    let templateScale: TemplateScaleSummary

    /// s, the |W| that full red and full blue stand for: the 99.5th percentile of |W| over all ten
    /// classes (`TemplateColorScale`); weights beyond it are drawn at full colour.
    struct TemplateScaleSummary: Encodable {
        let percentile: Double
        let limit: Float
        let clipped: Int
        let maximum: Float
    }

    init(_ stored: StoredModel, path: String) {
        self.path = path
        metadata = stored.metadata
        preprocessing = stored.preprocessing.rawValue
        let features = SoftmaxModel.featureCount
        weights = (0 ..< SoftmaxModel.classCount).map { k in
            Array(stored.model.weights[k * features ..< (k + 1) * features])
        }
        bias = stored.model.bias
        maximumBodyBytes = DigitServer.maximumBodyByteCount
        maximumPixels = DigitServer.maximumPixelCount
        let scale = TemplateColorScale(weights: stored.model.weights, scaling: .percentile)
        templateScale = TemplateScaleSummary(
            percentile: scale.percentile, limit: scale.limits.first ?? 0,
            clipped: scale.clippedCount, maximum: scale.maximumMagnitude)
    }
}
