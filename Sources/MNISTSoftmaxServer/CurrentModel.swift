import Foundation
import MNISTSoftmax

/// The model the draw view predicts with and GET /api/model describes: the one `serve` was
/// started with, until "Use this model" puts a trained one in its place. Requests read it
/// concurrently; a swap is atomic, so each request sees one model or the other, whole.
final class CurrentModel: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: StoredModel
    private var summary: Data

    /// `path`: what /api/model reports as the model's origin.
    init(_ stored: StoredModel, path: String) throws {
        self.stored = stored
        summary = try JSONCoding.encoder.encode(ModelSummary(stored, path: path))
    }

    /// The model and its GET /api/model answer, read together.
    var value: (stored: StoredModel, summary: Data) {
        lock.withLock { (stored, summary) }
    }

    func replace(with stored: StoredModel, path: String) throws {
        let summary = try JSONCoding.encoder.encode(ModelSummary(stored, path: path))
        lock.withLock {
            self.stored = stored
            self.summary = summary
        }
    }
}
