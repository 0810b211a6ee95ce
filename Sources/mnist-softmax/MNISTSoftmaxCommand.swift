import ArgumentParser

@main
struct MNISTSoftmaxCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mnist-softmax",
        abstract:
            "Softmax regression on MNIST: read IDX files, train, evaluate, predict your own digits, draw the weights.",
        discussion: """
            The data directory is --data-dir, else $\(DataOptions.environmentVariable), else \(DataOptions.defaultPath). \
            Run `mnist-softmax fetch` once to download and verify the four MNIST files into it.

            Exit status: 0 on success, 64 for usage errors, 1 for any other failure.
            """,
        subcommands: [
            Fetch.self, Train.self, Evaluate.self, Predict.self, Inspect.self, ExportWeights.self, ExportONNX.self,
            GradCheck.self, Report.self, Serve.self,
        ]
    )

    /// ArgumentParser's own `main`, except that a library error leaves with the command line's
    /// advice (`ErrorAdvice`): which subcommand or flag to use.
    static func main() async {
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            exit(withError: ErrorAdvice.advised(error))
        }
    }
}
