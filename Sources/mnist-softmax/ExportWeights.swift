import ArgumentParser
import MNISTSoftmax

struct ExportWeights: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export-weights",
        abstract: "Draw the learned weight templates as PNG images.",
        discussion: """
            Writes class-0.png … class-9.png and templates.png, a 2×5 montage with each template under \
            its digit and a colour bar with its values. Each template is the class's 28×28 row of W on a \
            diverging colour map: negative blue, zero white, positive red, full colour at ±s and beyond. \
            By default s is the 99.5th percentile of |W| over all ten classes, so one outlier pixel does \
            not wash out the others.
            """)

    @OptionGroup var modelPath: ModelPathOption

    @Option(help: ArgumentHelp("Folder for the PNG files (created if missing).", valueName: "dir"))
    var outputDir: String

    @Option(
        help: ArgumentHelp(
            "Integer upscaling factor, nearest-neighbour (1 to \(WeightTemplates.scaleRange.upperBound)).",
            valueName: "n"))
    var scale: Int = 8

    @Option(
        help: ArgumentHelp(
            "How the weight s at full colour is chosen: percentile (the --percentile of |W| over all ten, beyond it clipped), max (max |W| over all ten) or per-class (each class's own max |W_k|).",
            valueName: "scaling"))
    var scaling: TemplateScaling = .percentile

    @Option(
        help: ArgumentHelp(
            "With --scaling percentile: which percentile of |W| is full colour, above 0 and up to 100. [default: \(TemplateScaling.defaultPercentile)]",
            valueName: "p"))
    var percentile: Double?

    func validate() throws {
        guard WeightTemplates.scaleRange.contains(scale) else {
            throw ValidationError("--scale must be between 1 and \(WeightTemplates.scaleRange.upperBound)")
        }
        if let percentile {
            guard scaling == .percentile else { throw ValidationError("--percentile applies to --scaling percentile") }
            guard TemplateScaling.isValidPercentile(percentile) else {
                throw ValidationError("--percentile must be above 0 and at most 100")
            }
        }
    }

    func run() throws {
        let stored = try SafeTensorsFile.read(modelPath.model)
        for path in try WeightTemplates.write(
            stored.model, toDirectory: outputDir, scale: scale, scaling: scaling,
            percentile: percentile ?? TemplateScaling.defaultPercentile)
        {
            print(path)
        }
    }
}

extension TemplateScaling: ExpressibleByArgument {}
