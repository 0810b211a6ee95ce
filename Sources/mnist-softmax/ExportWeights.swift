import ArgumentParser
import MNISTSoftmax

struct ExportWeights: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export-weights",
        abstract: "Draw the learned weight templates as PNG images.",
        discussion: """
            Writes class-0.png … class-9.png and a 2×5 montage templates.png. Each template is the \
            class's 28×28 row of W on a diverging colour map: negative blue, zero white, positive red.
            """)

    @Option(help: ArgumentHelp("Model file (safetensors) to draw.", valueName: "file"))
    var model: String

    @Option(help: ArgumentHelp("Folder for the PNG files (created if missing).", valueName: "dir"))
    var outputDir: String

    @Option(help: ArgumentHelp("Integer upscaling factor, nearest-neighbour (1 to \(WeightTemplates.scaleRange.upperBound)).", valueName: "n"))
    var scale: Int = 8

    @Option(help: "Colour scale: shared (one max|W| for all classes, comparable) or per-class.")
    var scaling: TemplateScaling = .shared

    func validate() throws {
        guard WeightTemplates.scaleRange.contains(scale) else {
            throw ValidationError("--scale must be between 1 and \(WeightTemplates.scaleRange.upperBound)")
        }
    }

    func run() throws {
        let stored = try SafeTensorsFile.read(model)
        for path in try WeightTemplates.write(stored.model, toDirectory: outputDir, scale: scale, scaling: scaling) {
            print(path)
        }
    }
}

extension TemplateScaling: ExpressibleByArgument {}
