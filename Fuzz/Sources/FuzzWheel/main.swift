import FuzzSupport
import MNISTSoftmax

@_cdecl("LLVMFuzzerInitialize")
public func initialize(_ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>) -> CInt {
    writeSeedsIfAsked { Seeds.zipArchives() }
    return 0
}

/// Any bytes either give the entry or throw `WheelArchiveError`. An extracted entry is at most
/// the size its central directory records, which the reader checks against the content.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzWheel(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    let bytes = [UInt8](UnsafeRawBufferPointer(start: start, count: count))
    for name in Seeds.zipEntryNames {
        do {
            _ = try WheelArchive.extract(name, fromZip: bytes, path: "fuzz-input")
        } catch is WheelArchiveError {
            continue
        } catch {
            preconditionFailure("not a WheelArchiveError: \(error)")
        }
    }
    return 0
}
