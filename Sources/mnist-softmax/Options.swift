import ArgumentParser
import Foundation
import MNISTSoftmax

/// Where the MNIST files live.
struct DataOptions: ParsableArguments {
    static let environmentVariable = DataDirectory.environmentVariable
    static let defaultPath = DataDirectory.defaultPath

    @Option(
        name: .long,
        help: ArgumentHelp(
            "Folder holding the MNIST IDX files, raw or .gz.",
            discussion: "Defaults to $\(environmentVariable), else \(defaultPath).",
            valueName: "dir"))
    var dataDir: String?

    var directory: DataDirectory { DataDirectory.resolve(explicitPath: dataDir) }
}

/// The model file, read or written.
struct ModelPathOption: ParsableArguments {
    static let defaultPath = "mnist-softmax.safetensors"

    @Option(name: .long, help: ArgumentHelp("Model file (safetensors).", valueName: "file"))
    var model: String = defaultPath
}

/// Writes a line to standard error: progress and diagnostics, never results.
func printDiagnostic(_ message: String) {
    FileHandle.standardError.write(Data((message + "\n").utf8))
}

/// "92.43%"
func percent(_ fraction: Double, digits: Int = 2) -> String {
    String(format: "%.\(digits)f%%", fraction * 100)
}

/// Pads `text` on the left to `width` characters.
func rightAligned(_ text: String, _ width: Int) -> String {
    text.count >= width ? text : String(repeating: " ", count: width - text.count) + text
}
