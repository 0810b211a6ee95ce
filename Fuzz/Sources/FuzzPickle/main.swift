import FuzzSupport
import MNISTSoftmax

@_cdecl("LLVMFuzzerInitialize")
public func initialize(_ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>) -> CInt {
    writeSeedsIfAsked { Seeds.pickles() }
    return 0
}

/// Any bytes either decode or throw `PickleError`; what decodes holds 28×28 images with labels
/// in 0…9, one label per image, in each of the three splits.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzPickle(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    let bytes = [UInt8](UnsafeRawBufferPointer(start: start, count: count))
    let mnist: PickledMNIST
    do {
        mnist = try PickledMNIST(pickle: bytes, path: "fuzz-input")
    } catch is PickleError {
        return 0
    } catch {
        preconditionFailure("not a PickleError: \(error)")
    }
    for split in [mnist.training, mnist.validation, mnist.test] {
        precondition(split.rows == 28 && split.columns == 28 && split.pixels.count == split.count * 784,
                     "a decoded split is not 28×28 images")
        precondition(split.labels.count == split.count && split.labels.allSatisfy { $0 < 10 }, "a decoded label is out of range")
    }
    return 0
}
