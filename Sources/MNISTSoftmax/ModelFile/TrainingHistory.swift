import FoundationEssentials

/// The metrics of every epoch (or L-BFGS iteration) of a training run, as `train` records them in
/// the model file's metadata under `history`, so that `report` can draw the curves from the file.
///
/// Stored as one compact JSON object, columns rather than rows, each value as the shortest text
/// that reads back as the same `Float` (an accuracy out of 60,000 images keeps its exact count):
///
///     {"loss":[0.4012,0.3155],"start":1,"train_accuracy":[0.8852,0.9101],"unit":"epoch","validation_accuracy":[0.9,0.91]}
///
/// `validation_accuracy` is absent when training had no validation split. `start` is the number
/// of the first entry: 1, or the epoch after the checkpoint a resumed run continued from.
public struct TrainingHistory: Equatable, Sendable, Codable {
    /// What one entry is: an SGD epoch or an L-BFGS iteration.
    public enum Unit: String, Sendable, Codable, CaseIterable {
        case epoch
        case iteration
    }

    /// The metadata key of the history.
    public static let metadataKey = ModelMetadataKey.history.rawValue
    /// The most entries a history may hold when read: far above any run (L-BFGS defaults to 500).
    public static let maximumEntryCount = 100_000

    public var unit: Unit
    /// The epoch (or iteration) number of the first entry, ≥ 1.
    public var start: Int
    /// Per entry: the training loss as `train` measured it (with the L2 term).
    public var loss: [Float]
    /// Per entry: the fraction of training samples classified right, in [0, 1].
    public var trainingAccuracy: [Float]
    /// Per entry: the fraction of the validation split classified right; nil without one.
    public var validationAccuracy: [Float]?

    /// `trainingAccuracy` is written `train_accuracy`; the raw value is its camelCase, which
    /// `JSONCoding` turns into snake_case both ways.
    enum CodingKeys: String, CodingKey {
        case unit, start, loss, validationAccuracy
        case trainingAccuracy = "trainAccuracy"
    }

    public init(
        unit: Unit, start: Int = 1, loss: [Float], trainingAccuracy: [Float], validationAccuracy: [Float]? = nil
    ) {
        self.unit = unit
        self.start = start
        self.loss = loss
        self.trainingAccuracy = trainingAccuracy
        self.validationAccuracy = validationAccuracy
    }

    /// Number of entries.
    public var count: Int { loss.count }

    /// The epoch (or iteration) number of each entry: start, start + 1, …
    public var entryNumbers: [Int] { Array(start ..< start + count) }

    /// The metadata value: the JSON object described on the type, keys sorted.
    public var metadataValue: String {
        try! JSONCoding.string(self)
    }

    /// Parses and checks a metadata value: a known unit, start ≥ 1, columns of one length (at most
    /// `maximumEntryCount`), finite losses and accuracies in [0, 1].
    public init(metadataValue: String) throws(TrainingHistoryError) {
        let decoded: TrainingHistory
        do {
            decoded = try JSONCoding.decoder.decode(TrainingHistory.self, from: Data(metadataValue.utf8))
        } catch {
            throw TrainingHistoryError(reason: "not the JSON object train writes (\(Self.describe(error)))")
        }
        guard decoded.start >= 1 else {
            throw TrainingHistoryError(reason: "start is \(decoded.start); it counts from 1")
        }
        guard decoded.count <= Self.maximumEntryCount else {
            throw TrainingHistoryError(reason: "\(decoded.count) entries, above the limit of \(Self.maximumEntryCount)")
        }
        let columns =
            [("train_accuracy", decoded.trainingAccuracy)]
            + (decoded.validationAccuracy.map { [("validation_accuracy", $0)] } ?? [])
        for (name, values) in columns where values.count != decoded.count {
            throw TrainingHistoryError(reason: "\(name) has \(values.count) entries; loss has \(decoded.count)")
        }
        if let index = decoded.loss.firstIndex(where: { !$0.isFinite }) {
            throw TrainingHistoryError(reason: "loss entry \(index) is not finite")
        }
        for (name, values) in columns {
            if let index = values.firstIndex(where: { !(0 ... 1).contains($0) }) {
                throw TrainingHistoryError(
                    reason: "\(name) entry \(index) is \(values[index]); an accuracy lies in [0, 1]")
            }
        }
        self = decoded
    }

    /// A decoding error in a few words: which key, what was wrong.
    private static func describe(_ error: Error) -> String {
        switch error as? DecodingError {
        case .keyNotFound(let key, _): return "no \"\(JSONCoding.wireName(of: key))\""
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .dataCorrupted(let context):
            let path = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? ".\(JSONCoding.wireName(of: $0))" }
                .joined()
            return path.isEmpty ? "invalid JSON" : "bad value at \(path.dropFirst(path.hasPrefix(".") ? 1 : 0))"
        default: return "invalid JSON"
        }
    }
}

/// A `history` metadata value that cannot be used, and why.
public struct TrainingHistoryError: Error, Equatable, CustomStringConvertible {
    public let reason: String

    public var description: String { "the training history in the metadata is unusable: \(reason)" }
}

extension StoredModel {
    /// The recorded training history; nil when the file has none (models written before `train`
    /// recorded it, or by another tool). Throws when the value is there but malformed.
    public func trainingHistory() throws(TrainingHistoryError) -> TrainingHistory? {
        try metadata[TrainingHistory.metadataKey].map { value throws(TrainingHistoryError) in
            try TrainingHistory(metadataValue: value)
        }
    }
}
