import Foundation
import MNISTSoftmax
import Testing

// Small helpers shared by the test targets. Fixtures are built in code; nothing here reads MNIST.

/// The repository's root folder (this file is Tests/Support/TestSupport.swift).
public let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent().path

/// A fresh, empty directory under the system temporary directory. Remove it with `removeScratchDirectory`.
public func makeScratchDirectory(_ label: String = "mnist-softmax-tests") throws -> String {
    let path = (NSTemporaryDirectory() as NSString)
        .appendingPathComponent("\(label)-\(getpid())-\(UUID().uuidString)")
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

public func removeScratchDirectory(_ path: String) {
    try? FileManager.default.removeItem(atPath: path)
}

/// Runs `body` with a fresh temporary directory that is removed afterwards, whatever happens.
public func withTemporaryDirectory<R>(_ body: (String) throws -> R) throws -> R {
    let directory = try makeScratchDirectory()
    defer { removeScratchDirectory(directory) }
    return try body(directory)
}

/// max|a − b| / max(max|a|, max|b|, tiny): a norm-wise relative error, so one tiny element
/// cannot dominate. `a` and `b` must have the same count (and at least one element).
public func maxRelativeError<T: BinaryFloatingPoint>(_ a: [T], _ b: [T]) -> Double {
    precondition(a.count == b.count && !a.isEmpty, "compare equal, non-empty arrays (\(a.count) vs \(b.count))")
    var difference = 0.0, scale = Double.leastNormalMagnitude
    for (x, y) in zip(a, b) {
        let dx = Double(x), dy = Double(y)
        difference = max(difference, abs(dx - dy))
        scale = max(scale, abs(dx), abs(dy))
    }
    // A NaN anywhere must fail the comparison rather than vanish inside max().
    if a.contains(where: \.isNaN) || b.contains(where: \.isNaN) { return .infinity }
    return difference / scale
}

/// |a − b| / max(|a|, |b|, tiny), for scalars.
public func relativeError(_ a: Double, _ b: Double) -> Double {
    if a.isNaN || b.isNaN { return .infinity }
    return abs(a - b) / max(abs(a), abs(b), Double.leastNormalMagnitude)
}

/// `count` uniformly random values in `range`, drawn from `generator`.
public func randomValues<T: BinaryFloatingPoint>(
    _ count: Int, in range: ClosedRange<T>, using generator: inout SeededGenerator
) -> [T]
where T.RawSignificand: FixedWidthInteger {
    (0 ..< count).map { _ in T.random(in: range, using: &generator) }
}

/// A seeded random batch of 28×28 u8 images with labels in 0…9.
public func randomImageBatch(count: Int, seed: UInt64) throws -> LabeledImages {
    var generator = SeededGenerator(seed: seed)
    let pixels = (0 ..< count * SoftmaxModel.featureCount).map { _ in UInt8.random(in: 0 ... 255, using: &generator) }
    let labels = (0 ..< count).map { _ in UInt8(generator.next(below: SoftmaxModel.classCount)) }
    return try LabeledImages(pixels: pixels, labels: labels, rows: 28, columns: 28, source: "random batch \(seed)")
}

/// A seeded random `SoftmaxModel` with every parameter in −scale…scale.
public func randomModel(scale: Float, seed: UInt64) -> SoftmaxModel {
    var generator = SeededGenerator(seed: seed)
    return SoftmaxModel(
        weights: randomValues(
            SoftmaxModel.classCount * SoftmaxModel.featureCount, in: -scale ... scale, using: &generator),
        bias: randomValues(SoftmaxModel.classCount, in: -scale ... scale, using: &generator))
}

/// A separable synthetic 28×28 task: the image of class c has a bright 7×7 block at block
/// position c of the 4×4 grid of blocks, over dim random noise. Seeded, so fully reproducible.
public func blockDataset(count: Int, seed: UInt64) throws -> LabeledImages {
    var generator = SeededGenerator(seed: seed)
    var pixels = [UInt8](repeating: 0, count: count * SoftmaxModel.featureCount)
    var labels = [UInt8](repeating: 0, count: count)
    for n in 0 ..< count {
        let label = generator.next(below: SoftmaxModel.classCount)
        labels[n] = UInt8(label)
        let blockRow = label / 4, blockColumn = label % 4
        for row in 0 ..< 28 {
            for column in 0 ..< 28 {
                let bright = row / 7 == blockRow && column / 7 == blockColumn
                pixels[n * 784 + row * 28 + column] =
                    bright
                    ? UInt8(200 + generator.next(below: 56))
                    : UInt8(generator.next(below: 60))
            }
        }
    }
    return try LabeledImages(pixels: pixels, labels: labels, rows: 28, columns: 28, source: "block dataset \(seed)")
}

/// The error `body` throws, if it is an `E`; records an issue when it throws nothing or something else.
public func thrownError<E: Error, R>(
    _: E.Type, sourceLocation: SourceLocation = #_sourceLocation,
    _ body: () throws -> R
) -> E? {
    do {
        _ = try body()
        Issue.record("expected \(E.self) to be thrown, but nothing was thrown", sourceLocation: sourceLocation)
    } catch let error as E {
        return error
    } catch {
        Issue.record("expected \(E.self), got \(type(of: error)): \(error)", sourceLocation: sourceLocation)
    }
    return nil
}

/// The result of `body`, or nil after recording the error it threw as an issue.
public func thrownNothing<R>(sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> R) -> R? {
    do {
        return try body()
    } catch {
        Issue.record("unexpected error: \(error)", sourceLocation: sourceLocation)
        return nil
    }
}

/// Writes `train` and `test` as the four raw IDX files of a data directory at `directory`.
public func writeDataDirectory(train: LabeledImages, test: LabeledImages, to directory: String) throws {
    for (split, data) in [(MNISTSplit.train, train), (.test, test)] {
        let images = IDXArray(dimensions: [data.count, data.rows, data.columns], elements: .uint8(data.pixels))
        let labels = IDXArray(dimensions: [data.count], elements: .uint8(data.labels))
        try FileIO.writeAtomically(images.encoded(), to: directory + "/" + split.imagesFile.name)
        try FileIO.writeAtomically(labels.encoded(), to: directory + "/" + split.labelsFile.name)
    }
}

/// Random pixels with about 40% of the vectors of 16 set to 0, so that the kernels' skipping
/// of blank vectors and both column shards are exercised.
public func inkedImages(count: Int, seed: UInt64) throws -> LabeledImages {
    let random = try randomImageBatch(count: count, seed: seed)
    var generator = SeededGenerator(seed: seed + 1)
    var pixels = random.pixels
    for vector in 0 ..< pixels.count / 16 where generator.next(below: 10) < 4 {
        pixels.replaceSubrange(vector * 16 ..< vector * 16 + 16, with: repeatElement(0, count: 16))
    }
    return try LabeledImages(
        pixels: pixels, labels: random.labels, rows: 28, columns: 28, source: "inked batch \(seed)")
}

/// How many parameters (weights, then bias) of two models differ in their bits.
public func differingBits(_ a: SoftmaxModel, _ b: SoftmaxModel) -> Int {
    differingBits(a.weights + a.bias, b.weights + b.bias)
}

public func differingBits(_ a: [Float], _ b: [Float]) -> Int {
    zip(a, b).filter { $0.bitPattern != $1.bitPattern }.count
}

/// Writes `array` as an IDX file (gzip-compressed when `gzip`) in `directory`.
@discardableResult
public func writeIDX(_ array: IDXArray, named name: String, in directory: String, gzip: Bool = false) throws -> String {
    let path = (directory as NSString).appendingPathComponent(name)
    try FileIO.writeAtomically(gzip ? Gzip.compress(array.encoded()) : array.encoded(), to: path)
    return path
}

public func imageArray(count: Int, rows: Int, columns: Int) -> IDXArray {
    IDXArray(
        dimensions: [count, rows, columns],
        elements: .uint8((0 ..< count * rows * columns).map { UInt8(truncatingIfNeeded: $0 &* 37) }))
}

public func labelArray(_ labels: [UInt8]) -> IDXArray {
    IDXArray(dimensions: [labels.count], elements: .uint8(labels))
}
