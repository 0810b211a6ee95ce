import FoundationEssentials
import MNISTSoftmax

/// The JSON body of POST /api/train and POST /api/race: `mnist-softmax train`'s SGD settings, each
/// optional (left out: `train`'s default), and the pace of the slowed-down mode. Keys are
/// snake_case: {"loss": "mse", "learning_rate": 0.1, "batch_size": 100, "momentum": 0, "l2": 1e-4,
/// "epochs": 1, "deskew": false, "seed": 42, "batches_per_second": 5}. An unknown key is refused,
/// so that a misspelt setting is not silently replaced by its default.
package struct TrainingRequest: Decodable {
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

    package init(from decoder: any Decoder) throws {
        let keys = try decoder.container(keyedBy: AnyKey.self).allKeys.map(\.stringValue)
        if let unknown = keys.first(where: { CodingKeys(stringValue: $0) == nil }) {
            throw TrainingRequestError(
                "unknown setting '\(JSONCoding.wireName(of: AnyKey(stringValue: unknown)))'; the settings are "
                    + CodingKeys.allCases.map { JSONCoding.wireName(of: $0) }.joined(separator: ", "))
        }
        let container = try decoder.container(keyedBy: CodingKeys.self)
        // Each value on its own, so that a refusal names its key: Foundation reports a number that
        // does not fit its type (-1 for the seed, 1.5 for epochs) as "not valid JSON", without one.
        func value<T: Decodable>(_ key: CodingKeys, as type: T.Type, _ expected: String) throws -> T? {
            do {
                return try container.decodeIfPresent(type, forKey: key)
            } catch {
                throw TrainingRequestError("\(JSONCoding.wireName(of: key)) must be \(expected)")
            }
        }
        let wholeNumber = "a whole number", number = "a finite number"
        loss = try value(.loss, as: String.self, "a string")
        learningRate = try value(.learningRate, as: Float.self, number)
        momentum = try value(.momentum, as: Float.self, number)
        batchSize = try value(.batchSize, as: Int.self, wholeNumber)
        l2 = try value(.l2, as: Float.self, number)
        epochs = try value(.epochs, as: Int.self, wholeNumber)
        deskew = try value(.deskew, as: Bool.self, "true or false")
        seed = try value(.seed, as: UInt64.self, "a whole number from 0 to \(UInt64.max)")
        batchesPerSecond = try value(.batchesPerSecond, as: Double.self, number)
    }

    /// The body decoded, or why not: malformed JSON, a value of the wrong type, an unknown key. An
    /// empty body is {}: every setting its default.
    package static func decode(_ body: [UInt8]) throws(TrainingRequestError) -> TrainingRequest {
        guard !body.isEmpty else { return try decode(Array("{}".utf8)) }
        do {
            return try JSONCoding.decoder.decode(TrainingRequest.self, from: Data(body))
        } catch let error as TrainingRequestError {
            throw error
        } catch DecodingError.typeMismatch, DecodingError.valueNotFound {
            throw TrainingRequestError("the body must be a JSON object of settings, such as {\"epochs\": 1}")
        } catch {
            throw TrainingRequestError("the body is not valid JSON (and JSON numbers are finite: no NaN, no infinity)")
        }
    }

    /// The settings checked as `train` checks its options, and what they leave out filled with
    /// `train`'s defaults. `trainingCount`: the images in the training set (the largest batch).
    /// `racing`: the three costs are trained, so `loss` must be left out.
    package func plan(racing: Bool, trainingCount: Int, limits: TrainingLimits) throws(TrainingRequestError)
        -> TrainingPlan
    {
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
package struct TrainingPlan: Sendable {
    package let costs: [LossFunction]
    package let configuration: TrainingConfiguration
    package let preprocessing: Preprocessing
    /// The slowed-down mode's pace; nil at full speed.
    package let batchesPerSecond: Double?

    /// The configuration of the run of `cost`.
    package func configuration(for cost: LossFunction) -> TrainingConfiguration {
        var configuration = configuration
        configuration.lossFunction = cost
        return configuration
    }
}

/// Why a training request was refused; answered with 400 and the message.
package struct TrainingRequestError: Error, CustomStringConvertible {
    package let description: String
    init(_ description: String) { self.description = description }
}
