import FoundationEssentials
import MNISTSoftmax
import Synchronization

/// The model the draw view predicts with and GET /api/model describes: the one `serve` was
/// started with, until "Use this model" puts a trained one in its place. Requests read it
/// concurrently; a swap is atomic, so each request sees one model or the other, whole.
final class CurrentModel: Sendable {
    private let current: Mutex<(stored: StoredModel, summary: Data)>

    /// `path`: what /api/model reports as the model's origin.
    init(_ stored: StoredModel, path: String) throws {
        current = Mutex((stored, try JSONCoding.encoder.encode(ModelSummary(stored, path: path))))
    }

    /// The model and its GET /api/model answer, read together.
    var value: (stored: StoredModel, summary: Data) {
        current.withLock { $0 }
    }

    func replace(with stored: StoredModel, path: String) throws {
        let summary = try JSONCoding.encoder.encode(ModelSummary(stored, path: path))
        current.withLock { $0 = (stored, summary) }
    }
}
