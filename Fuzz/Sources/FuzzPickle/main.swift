import FuzzSupport
import MNISTSoftmax

@_cdecl("LLVMFuzzerInitialize")
public func initialize(_ argc: UnsafeMutablePointer<CInt>, _ argv: FuzzerArgumentVector) -> CInt {
    writeSeedsIfAsked { Seeds.pickles() }
}

/// Any bytes either decode or throw `PickleError`; what decodes holds 28×28 images with labels
/// in 0…9, one label per image, in each of the three splits.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzPickle(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    guard
        let mnist = valueOrRefusal(
            PickleError.self, { try PickledMNIST(pickle: fuzzInput(start, count), path: "fuzz-input") })
    else { return 0 }
    for split in [mnist.training, mnist.validation, mnist.test] {
        precondition(
            split.rows == 28 && split.columns == 28 && split.pixels.count == split.count * 784,
            "a decoded split is not 28×28 images")
        precondition(
            split.labels.count == split.count && split.labels.allSatisfy { $0 < 10 }, "a decoded label is out of range")
    }
    return 0
}
