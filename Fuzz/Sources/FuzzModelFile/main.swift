import FuzzSupport
import MNISTSoftmax

@_cdecl("LLVMFuzzerInitialize")
public func initialize(_ argc: UnsafeMutablePointer<CInt>, _ argv: FuzzerArgumentVector) -> CInt {
    writeSeedsIfAsked { Seeds.modelFiles() }
}

/// Any bytes either decode or throw `ModelFileError`; a decoded model must be finite and must
/// survive being written and read again bit for bit.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzModelFile(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    guard
        let stored = valueOrRefusal(
            ModelFileError.self, { try SafeTensorsFile.decode(fuzzInput(start, count), path: "fuzz-input") })
    else { return 0 }
    precondition((stored.model.weights + stored.model.bias).allSatisfy(\.isFinite), "a non-finite value was accepted")
    let again = try? SafeTensorsFile.decode(SafeTensorsFile.encode(stored), path: "re-encoded")
    precondition(
        again.map {
            $0.model.weights.map(\.bitPattern) == stored.model.weights.map(\.bitPattern)
                && $0.model.bias.map(\.bitPattern) == stored.model.bias.map(\.bitPattern)
        } == true, "a decoded model does not survive a round trip")
    return 0
}
