import FoundationEssentials
import MNISTSoftmax

/// What GET /api/train/events streams, as Server-Sent Events: `event: NAME` and one line of JSON
/// (`data: {...}`), then a blank line. docs/serve.md describes the stream.
enum TrainingEvent {
    /// Where the runs stand, at most every `TrainingLimits.frameInterval`.
    case frame(Frame)
    /// Every run finished its epochs (or, in a race, some diverged and the others finished).
    case done(Ending)
    /// Every run's loss stopped being finite: `message` is what `mnist-softmax train` says.
    case diverged(Ending)
    /// DELETE /api/train, or nobody watched for `TrainingLimits.unwatchedTimeout`.
    case stopped(Ending)
    /// The job could not run: the data could not be read, or training failed otherwise.
    case failed(Ending)

    /// One point of a run's curves: where it stood and how it did.
    struct Point: Encodable, Sendable {
        /// Counted from 1.
        let epoch: Int
        /// Batches done in this epoch.
        let batch: Int
        /// Samples trained on since the start: (epoch − 1) · N + the epoch's samples so far.
        let samples: Int
        /// The epoch's running training loss: the mean of (batch cost + (λ/2)‖W‖²) over its batches so far.
        let loss: Double
        /// Test accuracy of the weights at this point, on the 10,000 test images.
        let accuracy: Double
        /// `MisclassifiedGradient.meanTrueClassMagnitude` on the probe images: the mean |∂L/∂z_y|
        /// over the ones the weights get wrong.
        let wrongGradient: Double
    }

    /// One run (one cost) in a frame.
    struct RunFrame: Encodable, Sendable {
        /// "softmax-ce", "sigmoid-bce" or "mse".
        let cost: String
        let batchesPerEpoch: Int
        /// The latest point (also the last of `points`, when there are new ones).
        let latest: Point?
        /// The points since the previous frame: every point, for a stream that has just joined.
        let points: [Point]
        /// The ten templates at `latest`, as `mnist-softmax export-weights` colours them: base64 of
        /// 10 × 28 × 28 RGB bytes, class 0 first, rows top down; nil when unchanged since the
        /// previous frame.
        let templates: String?
        /// s, the |W| drawn at full colour: the 99.5th percentile of |W| (`TemplateColorScale`).
        let templateLimit: Float?
    }

    struct Frame: Encodable, Sendable {
        let job: Int
        /// The slowest run's epoch and batch: where a race stands.
        let epoch: Int
        let batch: Int
        let runs: [RunFrame]
    }

    /// How a run ended: finished its epochs, its loss stopped being finite, it was asked to stop,
    /// or it could not train.
    enum Outcome: String, Encodable, Sendable {
        case done, diverged, stopped, failed
    }

    /// How one run ended.
    struct RunResult: Encodable, Sendable {
        let cost: String
        let outcome: Outcome
        let epochsRun: Int
        /// On the 10,000 test images, when the run finished.
        let testAccuracy: Double?
        let testLoss: Double?
        /// Why it did not finish: `train`'s divergence message, or what stopped it.
        let message: String?
        /// GET this for the model file, when the run finished.
        let model: String?
    }

    struct Ending: Encodable, Sendable {
        let job: Int
        /// The first run's message when the job did not finish.
        let message: String?
        let seconds: Double
        let runs: [RunResult]
    }

    var name: String {
        switch self {
        case .frame: "frame"
        case .done: "done"
        case .diverged: "diverged"
        case .stopped: "stopped"
        case .failed: "failed"
        }
    }

    /// "event: NAME\ndata: JSON\n\n".
    var serialized: Data {
        let json: Data? =
            switch self {
            case .frame(let frame): try? JSONCoding.encoder.encode(frame)
            case .done(let ending), .diverged(let ending), .stopped(let ending), .failed(let ending):
                try? JSONCoding.encoder.encode(ending)
            }
        var bytes = Data("event: \(name)\ndata: ".utf8)
        bytes.append(json ?? Data("{}".utf8))
        bytes.append(contentsOf: Array("\n\n".utf8))
        return bytes
    }

    /// A comment line, which EventSource ignores: keeps an idle stream's connection checked.
    static let heartbeat = Data(": heartbeat\n\n".utf8)
}
