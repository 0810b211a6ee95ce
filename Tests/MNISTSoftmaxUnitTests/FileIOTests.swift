import Foundation
import MNISTSoftmax
import MNISTSoftmaxTestSupport
import Testing

struct FileIOTests {
    @Test func createDirectoryMakesEveryMissingParentAndAcceptsExistingOnes() throws {
        let root = try makeScratchDirectory()
        defer { removeScratchDirectory(root) }
        let nested = root + "/a/b/c"
        try FileIO.createDirectory(nested)
        try FileIO.createDirectory(nested)
        var isDirectory: ObjCBool = false
        #expect(FileManager.default.fileExists(atPath: nested, isDirectory: &isDirectory) && isDirectory.boolValue)
    }

    @Test func createDirectoryNamesTheFileThatIsInTheWay() throws {
        let root = try makeScratchDirectory()
        defer { removeScratchDirectory(root) }
        try FileIO.writeAtomically([1, 2, 3], to: root + "/plain")
        #expect(
            throws: FileAccessError(
                path: root + "/plain/sub/dir",
                problem: .writeFailed(
                    reason: "cannot create directory \(root)/plain: a file of that name is in the way"))
        ) {
            try FileIO.createDirectory(root + "/plain/sub/dir")
        }
    }
}
