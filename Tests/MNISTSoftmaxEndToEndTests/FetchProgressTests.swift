import Foundation
import MNISTSoftmax
import MNISTSoftmaxTestSupport
import Testing

@Test(.enabled(if: RealMNIST.directory != nil, RealMNIST.unavailableReason))
func fetchPrintsDownloadProgressInBytesAndPercentWhenNotOnATerminal() throws {
    let mirror = try LocalMirror(serving: try #require(RealMNIST.directory))
    let target = try makeScratchDirectory()
    defer { removeScratchDirectory(target) }
    let run = try CommandRun(["fetch", "--data-dir", target, "--source", "mirrors", "--mirror", mirror.url])
    #expect(run.status == 0, "\(run.standardError)")
    let source = try DataDirectory(path: try #require(RealMNIST.directory)).location(of: .trainImages)
    let size = try #require(try FileManager.default.attributesOfItem(atPath: source)[.size] as? Int)
    let url = mirror.url + (source as NSString).lastPathComponent
    for percent in [25, 50, 75, 100] {
        // Each quarter is printed once, at the first chunk that reaches it.
        let lines = run.standardError.split(separator: "\n").filter {
            $0.hasPrefix("\(url): ") && $0.hasSuffix(" of \(size) bytes (\(percent)%)")
        }
        let received = lines.first.flatMap { Int($0.dropFirst(url.count + 2).prefix { $0 != " " }) }
        #expect(
            lines.count == 1 && received.map { $0 * 100 >= size * percent && $0 <= size } == true,
            "\(percent)%: \(run.standardError)")
    }
    #expect(!run.standardError.contains("\r"))
}

@Test(.enabled(if: RealMNIST.directory != nil, RealMNIST.unavailableReason))
func fetcherKeepsVerifiedFilesWithoutDownloading() async throws {
    let source = DataDirectory(path: try #require(RealMNIST.directory))
    let directory = try makeScratchDirectory()
    defer { removeScratchDirectory(directory) }
    var copies: [String] = []
    for file in MNISTFile.all {
        let original = try source.location(of: file)
        copies.append("\(directory)/\((original as NSString).lastPathComponent)")
        try FileManager.default.copyItem(atPath: original, toPath: copies.last!)
    }
    let log = Collected<String>()
    // `.mirrors` would download; every file verifies, so nothing is asked of the network.
    let paths = try await MNISTFetcher(directory: DataDirectory(path: directory), log: { log.append($0) }).fetch(
        from: .mirrors)
    #expect(paths == copies)
    #expect(log.all == zip(MNISTFile.all, copies).map { "\($0.name): verified \($1)" })
}
