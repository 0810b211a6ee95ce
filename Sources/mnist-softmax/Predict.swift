import ArgumentParser
import FoundationEssentials
import MNISTSoftmax

struct Predict: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Classify your own digit images (PNG), or one image of an IDX file.",
        discussion: """
            A PNG may have any size, be grey or colour, have an alpha channel, and show a dark digit on \
            a light background or a light one on a dark background (detected from the border and \
            inverted as needed). It is prepared as MNIST prepared its digits: cropped to the ink, fitted \
            into 20×20 keeping the aspect ratio, and placed in 28×28 by its centre of mass. Prints the 3 \
            most probable classes per image. IDX images are used as they are (they are MNIST's own).
            """)

    @OptionGroup var modelPath: ModelPathOption

    @Argument(help: ArgumentHelp("PNG images, each of one digit.", valueName: "image.png"))
    var images: [String] = []

    @Option(
        help: ArgumentHelp(
            "IDX image file to take one image from, instead of PNG files (needs --index).", valueName: "file"))
    var idx: String?

    @Option(help: ArgumentHelp("Position of the image in the --idx file, from 0.", valueName: "n"))
    var index: Int?

    @Flag(help: "Print a JSON array with one object per input: {\"file\", \"top\": [{\"label\", \"probability\"}, …]}.")
    var json = false

    @Option(
        help: ArgumentHelp(
            "Write the 28×28 image the model saw (white ink on black, as in MNIST) as a greyscale PNG; needs exactly one input.",
            valueName: "file"))
    var savePreprocessed: String?

    func validate() throws {
        guard (idx == nil) == (index == nil) else {
            throw ValidationError("--idx and --index go together: give both or neither")
        }
        guard idx == nil || images.isEmpty else {
            throw ValidationError("give PNG images or --idx with --index, not both")
        }
        guard idx != nil || !images.isEmpty else {
            throw ValidationError("give at least one PNG image, or --idx FILE --index N")
        }
        guard (index ?? 0) >= 0 else { throw ValidationError("--index must be zero or positive") }
        guard savePreprocessed == nil || images.count <= 1 else {
            throw ValidationError("--save-preprocessed needs exactly one input; \(images.count) images were given")
        }
    }

    /// One input's outcome: its classes, or why it could not be classified.
    struct Outcome: Encodable {
        let file: String
        let index: Int?
        let top: [ClassProbability]?
        let error: String?
    }

    func run() throws {
        // Before anything else, so that a CPU too old for this build gets a message, not SIGILL.
        try KernelCPU.verify()
        if let savePreprocessed { try FileIO.requireWritableTarget(savePreprocessed) }
        let stored = try SafeTensorsFile.read(modelPath.model)
        var outcomes: [Outcome] = []
        if let idx, let index {
            let input = try IDXArray.read(contentsOf: idx).image(at: index, path: idx)
            guard input.width == 28 && input.height == 28 else {
                throw DatasetError(path: idx, problem: .wrongImageSize(rows: input.height, columns: input.width))
            }
            outcomes.append(try report(stored.classify(input), file: idx, index: index))
        } else {
            for path in images {
                do {
                    let (gray, alpha) = try PNGFile.readGrayAndAlpha(path)
                    let (_, classification) = try stored.classify(gray: gray, alpha: alpha, name: path)
                    outcomes.append(try report(classification, file: path, index: nil))
                } catch {
                    // Report it and go on with the other images; the exit status says one failed.
                    printDiagnostic("error: \(error)")
                    outcomes.append(Outcome(file: path, index: nil, top: nil, error: String(describing: error)))
                }
            }
        }
        if json {
            print(try JSONCoding.string(outcomes))
        } else {
            for outcome in outcomes {
                guard let top = outcome.top else { continue }
                let name = outcome.index.map { "\(outcome.file)[\($0)]" } ?? outcome.file
                print(
                    "\(name): " + top.map { "\($0.label) \(percent(Double($0.probability)))" }.joined(separator: ", "))
            }
        }
        if outcomes.contains(where: { $0.error != nil }) { throw ExitCode.failure }
    }

    /// The top classes of one classified image, after saving what the model saw when
    /// --save-preprocessed asks.
    private func report(_ classification: DigitClassification, file: String, index: Int?) throws -> Outcome {
        if let savePreprocessed {
            try PNGFile.write(classification.modelInput, to: savePreprocessed)
            printDiagnostic("saved the 28×28 model input to \(savePreprocessed)")
        }
        return Outcome(file: file, index: index, top: classification.mostProbable(), error: nil)
    }
}
