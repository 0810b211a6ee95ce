#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import ArgumentParser
import MNISTSoftmax
import MNISTSoftmaxServer

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve a page to draw digits on and see why the model decides as it does.",
        discussion: """
            A local web server. GET / is a page with a canvas, the 28×28 image the model sees, the ten \
            probabilities, the ten weight templates and the evidence map W_k ⊙ x of each class. \
            POST /api/predict takes the bytes of a PNG and answers what `predict --json` says of it, \
            with the logits and the preprocessed image; GET /api/model gives the model's metadata and \
            weights. The page's Train view trains on the MNIST files of --data-dir while you watch \
            (POST /api/train, or /api/race for the three costs side by side; docs/serve.md has the API \
            and the event stream), one job at a time. Once listening, it prints `listening on http://HOST:PORT/` on standard error. \
            SIGINT or SIGTERM stops it with exit status 0.
            """)

    @OptionGroup var modelPath: ModelPathOption
    @OptionGroup var data: DataOptions

    @Option(
        help: ArgumentHelp(
            "Address to listen on: an IPv4 or IPv6 address, or localhost (127.0.0.1).", valueName: "address"))
    var host = "127.0.0.1"

    @Option(help: ArgumentHelp("Port to listen on, 0 for any free port (the one chosen is printed).", valueName: "n"))
    var port = 8080

    @Option(
        help: ArgumentHelp("Stop a training job that no page has watched for this many seconds.", valueName: "seconds"))
    var unwatchedTimeout = 30

    func validate() throws {
        guard (1 ... 86_400).contains(unwatchedTimeout) else {
            throw ValidationError("--unwatched-timeout must be 1…86400 seconds, got \(unwatchedTimeout)")
        }
        guard (0 ... Int(UInt16.max)).contains(port) else {
            throw ValidationError("--port must be 0…65535, got \(port)")
        }
        guard DigitServer.isValidHost(host) else {
            throw ValidationError(
                "--host must be an IPv4 or IPv6 address such as 127.0.0.1 or ::1, or localhost; got '\(host)'")
        }
    }

    func run() async throws {
        // Before anything else, so that a CPU too old for this build gets a message, not SIGILL.
        try KernelCPU.verify()
        let stored = try SafeTensorsFile.read(modelPath.model)
        let server = try DigitServer(
            stored: stored, modelPath: modelPath.model, data: data.directory,
            unwatchedTimeout: .seconds(unwatchedTimeout))
        StopSignals.install()
        try await server.serve(
            host: host, port: UInt16(port),
            listening: { url in printDiagnostic("listening on \(url)") },
            stopRequested: { StopSignals.received != nil })
        printDiagnostic("stopped by \(StopSignals.received == SIGTERM ? "SIGTERM" : "SIGINT")")
    }
}
