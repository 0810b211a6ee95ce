import FuzzSupport
import MNISTFormats

@_cdecl("LLVMFuzzerInitialize")
public func initialize(_ argc: UnsafeMutablePointer<CInt>, _ argv: FuzzerArgumentVector) -> CInt {
    writeSeedsIfAsked { Seeds.zipArchives() }
}

/// Any bytes either give the entry or throw `WheelArchiveError`. An extracted entry is at most
/// the size its central directory records, which the reader checks against the content.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzWheel(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    let bytes = fuzzInput(start, count)
    for name in Seeds.zipEntryNames {
        _ = valueOrRefusal(WheelArchiveError.self) {
            try WheelArchive.extract(name, fromZip: bytes, path: "fuzz-input")
        }
    }
    return 0
}
