#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import ArgumentParser
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
    writeStandardError(message + "\n")
}

/// Writes `text` to standard error (file descriptor 2) at once, unbuffered; it gives up silently
/// when standard error is closed or full.
func writeStandardError(_ text: String) {
    var text = text
    _ = text.withUTF8 { FileIO.writeAll(UnsafeRawBufferPointer($0), to: STDERR_FILENO) }
}

/// "92.43%"
func percent(_ fraction: Double, digits: Int = 2) -> String {
    formatted("%.\(digits)f%%", fraction * 100)
}

/// Pads `text` on the left to `width` characters.
func rightAligned(_ text: String, _ width: Int) -> String {
    text.count >= width ? text : String(repeating: " ", count: width - text.count) + text
}

/// Pads `text` on the right with spaces to `width` UTF-16 code units, or cuts it to that many (a
/// surrogate pair cut in two leaves U+FFFD), as NSString's padding(toLength:withPad:startingAt:).
func leftAligned(_ text: String, _ width: Int) -> String {
    let length = text.utf16.count
    guard length < width else { return String(decoding: text.utf16.prefix(width), as: UTF16.self) }
    return text + String(repeating: " ", count: width - length)
}
