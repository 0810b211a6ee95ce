import ArgumentParser
import MNISTSoftmax
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `--quiet`, and how progress reaches standard error without it.
struct ProgressOptions: ParsableArguments {
    @Flag(help: "No progress or diagnostics on standard error; errors are still reported.")
    var quiet = false

    /// Silent with --quiet; else a line redrawn in place when standard error is a terminal, and
    /// plain lines when it is a file or a pipe.
    var style: ProgressStyle {
        quiet ? .silent : isatty(STDERR_FILENO) == 1 ? .live : .lines
    }

    /// `printDiagnostic(message)` unless --quiet.
    func diagnostic(_ message: String) {
        if !quiet { printDiagnostic(message) }
    }
}

enum ProgressStyle: Sendable {
    /// One status line rewritten in place (standard error is a terminal).
    case live
    /// Plain lines at milestones (standard error is a file or a pipe).
    case lines
    /// Nothing (--quiet).
    case silent
}

/// One line of a terminal's standard error, redrawn in place: carriage return, the text cut to
/// the terminal's width (a wrapped line could not be redrawn), then erase to the end of the line.
/// Redraws come at most every `interval` unless forced, so a fast loop does not flood the terminal.
final class StatusLine: Sendable {
    static let interval: Duration = .milliseconds(100)

    private let clock = ContinuousClock()
    /// When the line was last drawn, and whether anything is on it; held while writing, so that
    /// two threads never interleave their bytes.
    private let state = Mutex<(lastDrawn: ContinuousClock.Instant?, isShowing: Bool)>((nil, false))

    /// The terminal's width in columns; 80 when standard error does not say.
    static var columns: Int {
        var size = winsize()
        guard ioctl(STDERR_FILENO, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 else { return 80 }
        return Int(size.ws_col)
    }

    /// True when the last redraw is at least `interval` old (or there was none).
    var isDue: Bool {
        state.withLock { state in state.lastDrawn.map { clock.now - $0 >= Self.interval } ?? true }
    }

    /// Draws `text` over the current line.
    func show(_ text: String) {
        let fitted = String(text.prefix(Self.columns - 1))
        state.withLock { state in
            writeStandardError("\r" + fitted + "\u{1B}[K")
            state = (clock.now, true)
        }
    }

    /// Erases the line, if anything is on it, and leaves the cursor at its start.
    func clear() {
        state.withLock { state in
            guard state.isShowing else { return }
            writeStandardError("\r\u{1B}[K")
            state.isShowing = false
        }
    }
}

/// "1.35M", "852k", "640": a rate with an SI suffix and three significant digits.
func siRate(_ value: Double) -> String {
    switch value {
    case 1e6...: return formatted("%.3gM", value / 1e6)
    case 1e3...: return formatted("%.3gk", value / 1e3)
    default: return formatted("%.3g", value)
    }
}

/// "0.4 s", "12 s", "3:05": a duration in seconds, for an ETA.
func shortDuration(_ seconds: Double) -> String {
    switch seconds {
    case ..<10: return formatted("%.1f s", seconds)
    case ..<60: return formatted("%.0f s", seconds)
    default:
        let whole = Int(seconds.rounded())
        return formatted("%ld:%02ld", whole / 60, whole % 60)
    }
}

/// What `train` shows on standard error while it runs: a live bar for the current epoch
/// (batches done, samples/s, running loss, ETA) on a terminal, a plain line per epoch otherwise.
final class TrainingProgress {
    private let style: ProgressStyle
    private let epochs: Int
    /// "epoch", or "iteration" for L-BFGS, whose steps have no batches.
    private let unit: String
    private let line = StatusLine()
    private let clock = ContinuousClock()
    private var epochStarted: ContinuousClock.Instant

    init(style: ProgressStyle, epochs: Int, unit: String = "epoch") {
        self.style = style
        self.epochs = epochs
        self.unit = unit
        epochStarted = clock.now
    }

    /// After each batch: redraws the bar (live style) on the first and last batch and at most
    /// every 0.1 s in between.
    func batchFinished(_ progress: BatchProgress) {
        guard style == .live,
            progress.batchesDone == 1 || progress.batchesDone == progress.batchCount || line.isDue
        else { return }
        let elapsed = (clock.now - epochStarted).seconds
        let rate = Double(progress.samplesDone) / max(elapsed, 1e-9)
        let eta = elapsed * Double(progress.batchCount - progress.batchesDone) / Double(progress.batchesDone)
        let details =
            "\(progress.batchesDone)/\(progress.batchCount) batches, \(siRate(rate)) samples/s, "
            + "loss \(formatted("%.4f", progress.runningLoss)), ETA \(shortDuration(eta))"
        // The bar takes what a typical line leaves of the terminal's width (8 to 30 columns), the
        // same for every frame so that it does not jitter.
        let barWidth = min(30, max(8, StatusLine.columns - 72))
        let filled = barWidth * progress.batchesDone / progress.batchCount
        let bar =
            String(repeating: "=", count: filled)
            + (filled < barWidth ? ">" + String(repeating: " ", count: barWidth - filled - 1) : "")
        line.show("epoch \(progress.epoch)/\(epochs) [\(bar)] \(details)")
    }

    /// At the end of each epoch: clears the bar (live) or prints the epoch's line (lines).
    func epochFinished(_ summary: EpochSummary, lastBatch: BatchProgress?) {
        switch style {
        case .live:
            line.clear()
        case .lines where lastBatch == nil:
            printDiagnostic(
                "\(unit) \(summary.epochOrIteration)/\(epochs): " + formatted("%.3f s", summary.seconds)
                    + ", loss " + formatted("%.4f", summary.trainingLoss))
        case .lines:
            let samples = lastBatch?.samplesDone ?? 0
            let rate = siRate(Double(samples) / max(summary.seconds, 1e-9))
            printDiagnostic(
                "epoch \(summary.epochOrIteration)/\(epochs): \(lastBatch?.batchCount ?? 0) batches, \(samples) samples in "
                    + formatted("%.3f s", summary.seconds) + " (\(rate) samples/s), loss "
                    + formatted("%.4f", summary.trainingLoss))
        case .silent:
            break
        }
        epochStarted = clock.now
    }

    /// Erases a bar left on screen, as when training stops with an error.
    func finish() { line.clear() }
}
