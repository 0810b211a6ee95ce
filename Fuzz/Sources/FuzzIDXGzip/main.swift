import FuzzSupport
import MNISTFormats

@_cdecl("LLVMFuzzerInitialize")
public func initialize(_ argc: UnsafeMutablePointer<CInt>, _ argv: FuzzerArgumentVector) -> CInt {
    writeSeedsIfAsked { Seeds.rawIDX() }
}

/// The input is treated as decompressed IDX content: it is gzip-compressed (level 1) and decoded,
/// which drives the streaming reader and its size bounds. It must decode exactly as the raw bytes
/// do (input that is itself gzip is left to FuzzIDX): the same array, or an IDX error with the same problem and offset, with one exception:
/// a payload that only the compressed size can rule out is `impossiblePayload` there.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzIDXGzip(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    let bytes = fuzzInput(start, count)
    // Input that is itself gzip would be read as gzip on the raw side: FuzzIDX covers it.
    guard !Gzip.isGzip(bytes) else { return 0 }
    let raw = Result { try IDXArray.decode(bytes, path: "fuzz-input") }
    let compressed = Result { try IDXArray.decode(Gzip.compress(bytes, level: 1), path: "fuzz-input") }
    switch (raw, compressed) {
    case (.success(let a), .success(let b)):
        precondition(a == b || a.encoded() == b.encoded(), "raw and gzip decode to different arrays")
    case (.failure(let a as IDXError), .failure(let b as IDXError)):
        if case .impossiblePayload = b.problem {
            if case .truncatedPayload = a.problem { break }
        }
        precondition(a == b, "raw: \(a); gzip: \(b)")
    case (.failure(let a), .failure(let b)):
        preconditionFailure("unexpected error types: raw \(a), gzip \(b)")
    case (.success, .failure(let error)), (.failure(let error), .success):
        preconditionFailure("raw and gzip disagree: \(error)")
    }
    return 0
}
