import Foundation
import MNISTSoftmax

/// The JSON body of POST /api/train and POST /api/race: `mnist-softmax train`'s SGD settings, each
/// optional (left out: `train`'s default), and the pace of the slowed-down mode. Keys are
/// snake_case: {"loss": "mse", "learning_rate": 0.1, "batch_size": 100, "momentum": 0, "l2": 1e-4,
/// "epochs": 1, "deskew": false, "seed": 42, "batches_per_second": 5}. An unknown key is refused,
/// so that a misspelt setting is not silently replaced by its default.
struct TrainingRequest: Decodable {
    var loss: String?
    var learningRate: Float?
    var momentum: Float?
    var batchSize: Int?
    var l2: Float?
    var epochs: Int?
    var deskew: Bool?
    var seed: UInt64?
    /// The slowed-down mode: this many batches a second per run, one frame per batch. Absent: full speed.
    var batchesPerSecond: Double?

    private enum CodingKeys: String, CodingKey, CaseIterable {
        case loss, learningRate, momentum, batchSize, l2, epochs, deskew, seed, batchesPerSecond
    }

    /// Any key of the object, to find the unknown ones.
    private struct AnyKey: CodingKey {
        let stringValue: String
        init(stringValue: String) { self.stringValue = stringValue }
        var intValue: Int? { nil }
        init?(intValue: Int) { nil }
    }

    init(from decoder: any Decoder) throws {
        let keys = try decoder.container(keyedBy: AnyKey.self).allKeys.map(\.stringValue)
        if let unknown = keys.first(where: { CodingKeys(stringValue: $0) == nil }) {
            throw TrainingRequestError(
                "unknown setting '\(JSONCoding.wireName(of: AnyKey(stringValue: unknown)))'; the settings are "
                    + CodingKeys.allCases.map { JSONCoding.wireName(of: $0) }.joined(separator: ", "))
        }
        let container = try decoder.container(keyedBy: CodingKeys.self)
        loss = try container.decodeIfPresent(String.self, forKey: .loss)
        learningRate = try container.decodeIfPresent(Float.self, forKey: .learningRate)
        momentum = try container.decodeIfPresent(Float.self, forKey: .momentum)
        batchSize = try container.decodeIfPresent(Int.self, forKey: .batchSize)
        l2 = try container.decodeIfPresent(Float.self, forKey: .l2)
        epochs = try container.decodeIfPresent(Int.self, forKey: .epochs)
        deskew = try container.decodeIfPresent(Bool.self, forKey: .deskew)
        seed = try container.decodeIfPresent(UInt64.self, forKey: .seed)
        batchesPerSecond = try container.decodeIfPresent(Double.self, forKey: .batchesPerSecond)
    }

    /// The body decoded, or why not: malformed JSON, a value of the wrong type, an unknown key. An
    /// empty body is {}: every setting its default.
    static func decode(_ body: [UInt8]) throws(TrainingRequestError) -> TrainingRequest {
        guard !body.isEmpty else { return try decode(Array("{}".utf8)) }
        do {
            return try JSONCoding.decoder.decode(TrainingRequest.self, from: Data(body))
        } catch let error as TrainingRequestError {
            throw error
        } catch DecodingError.typeMismatch(let type, let context), DecodingError.valueNotFound(let type, let context) {
            guard !context.codingPath.isEmpty else {
                throw TrainingRequestError("the body must be a JSON object of settings, such as {\"epochs\": 1}")
            }
            throw TrainingRequestError("\(Self.path(context)) must be \(Self.name(of: type))")
        } catch DecodingError.dataCorrupted(let context) where !context.codingPath.isEmpty {
            throw TrainingRequestError("\(Self.path(context)) is out of range: \(context.debugDescription)")
        } catch {
            throw TrainingRequestError("the body is not valid JSON (and JSON numbers are finite: no NaN, no infinity)")
        }
    }

    private static func path(_ context: DecodingError.Context) -> String {
        context.codingPath.map(JSONCoding.wireName(of:)).joined(separator: ".")
    }

    private static func name(of type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is Bool.Type: "true or false"
        case is Int.Type, is UInt64.Type: "a whole number"
        case is Float.Type, is Double.Type: "a number"
        default: "an object"
        }
    }

    /// The settings checked as `train` checks its options, and what they leave out filled with
    /// `train`'s defaults. `trainingCount`: the images in the training set (the largest batch).
    /// `racing`: the three costs are trained, so `loss` must be left out.
    func plan(racing: Bool, trainingCount: Int, limits: TrainingLimits) throws(TrainingRequestError) -> TrainingPlan {
        var configuration = TrainingConfiguration()
        let costs: [LossFunction]
        if racing {
            guard loss == nil else { throw TrainingRequestError("a race trains every cost; leave out loss") }
            costs = LossFunction.allCases
        } else if let loss {
            guard let cost = LossFunction(rawValue: loss) else {
                throw TrainingRequestError(
                    "unknown cost '\(loss)'; use one of "
                        + LossFunction.allCases.map(\.rawValue).joined(separator: ", "))
            }
            costs = [cost]
        } else {
            costs = [configuration.lossFunction]
        }
        if let learningRate {
            guard learningRate.isFinite && learningRate > 0 else {
                throw TrainingRequestError("learning_rate must be a positive number, got \(learningRate)")
            }
            configuration.learningRate = learningRate
        }
        if let momentum {
            guard momentum >= 0 && momentum < 1 else {
                throw TrainingRequestError("momentum must be in [0, 1), got \(momentum)")
            }
            configuration.momentum = momentum
        }
        if let batchSize {
            guard (1 ... trainingCount).contains(batchSize) else {
                throw TrainingRequestError("batch_size must be 1…\(trainingCount) (the training set), got \(batchSize)")
            }
            configuration.batchSize = batchSize
        }
        if let l2 {
            guard l2.isFinite && l2 >= 0 else { throw TrainingRequestError("l2 must be zero or positive, got \(l2)") }
            configuration.l2 = l2
        }
        if let epochs {
            guard (1 ... limits.maximumEpochs).contains(epochs) else {
                throw TrainingRequestError("epochs must be 1…\(limits.maximumEpochs), got \(epochs)")
            }
            configuration.epochs = epochs
        }
        if let seed { configuration.seed = seed }
        if let batchesPerSecond {
            guard limits.batchesPerSecond.contains(batchesPerSecond) else {
                throw TrainingRequestError(
                    "batches_per_second must be \(limits.batchesPerSecond.lowerBound)…"
                        + "\(limits.batchesPerSecond.upperBound), got \(batchesPerSecond)")
            }
        }
        // One thread per run: the weights are the same on any count, and a race's three runs
        // leave the server's threads a core.
        configuration.threads = 1
        configuration.threadsFollowFreeCores = false
        return TrainingPlan(
            costs: costs, configuration: configuration, preprocessing: deskew == true ? .deskew : .none,
            batchesPerSecond: batchesPerSecond)
    }
}

/// The answer of GET /api/train/defaults: what a left-out setting becomes, `train`'s defaults
/// (`TrainingConfiguration()`), in the request's keys, so that the page shows them rather than a
/// copy of its own.
struct TrainingDefaults: Encodable {
    let loss: String
    let learningRate: Float
    let momentum: Float
    let batchSize: Int
    let l2: Float
    let epochs: Int
    let deskew: Bool
    let seed: UInt64

    init(_ configuration: TrainingConfiguration = TrainingConfiguration()) {
        loss = configuration.lossFunction.rawValue
        learningRate = configuration.learningRate
        momentum = configuration.momentum
        batchSize = configuration.batchSize
        l2 = configuration.l2
        epochs = configuration.epochs
        deskew = false
        seed = configuration.seed
    }
}

/// A training job's settings, checked: the costs to train (one, or the three of a race) with one
/// configuration, which differs between the runs only in `lossFunction`.
struct TrainingPlan: Sendable {
    let costs: [LossFunction]
    let configuration: TrainingConfiguration
    let preprocessing: Preprocessing
    /// The slowed-down mode's pace; nil at full speed.
    let batchesPerSecond: Double?

    /// The configuration of the run of `cost`.
    func configuration(for cost: LossFunction) -> TrainingConfiguration {
        var configuration = configuration
        configuration.lossFunction = cost
        return configuration
    }
}

/// Why a training request was refused; answered with 400 and the message.
struct TrainingRequestError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
