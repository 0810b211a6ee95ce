import FuzzSupport
import MNISTFormats

@_cdecl("LLVMFuzzerInitialize")
public func initialize(_ argc: UnsafeMutablePointer<CInt>, _ argv: FuzzerArgumentVector) -> CInt {
    writeSeedsIfAsked { Seeds.rawIDX() + Seeds.gzipIDX() }
}

/// Any bytes either decode or throw; what decodes must describe the input exactly: raw input
/// re-encodes to itself, and gzip input to an IDX that decodes to the same array.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzIDX(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    let bytes = fuzzInput(start, count)
    guard let array = try? IDXArray.decode(bytes, path: "fuzz-input") else { return 0 }
    let encoded = array.encoded()
    if Gzip.isGzip(bytes) {
        let again = try? IDXArray.decode(encoded, path: "re-encoded")
        precondition(again.map { $0.encoded() == encoded } == true, "a decoded gzip IDX does not survive a round trip")
    } else {
        precondition(encoded == bytes, "a decoded raw IDX does not re-encode to its input")
    }
    return 0
}
