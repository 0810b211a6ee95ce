/// Path names taken apart and put together as text, as Foundation's `NSString` path methods do
/// on Linux for the paths this tool handles: no file system access, `..` and symbolic links
/// left as they are.
package enum PathName {
    /// `directory` and `name` joined by one `/`: "out" + "a.png" → "out/a.png", "out/" +
    /// "a.png" → "out/a.png", "" + "a.png" → "a.png"; an empty `name` leaves `directory` as it is.
    package static func joining(_ directory: String, _ name: String) -> String {
        if name.isEmpty { return directory }
        if directory.isEmpty { return name }
        return directory.hasSuffix("/") ? directory + name : directory + "/" + name
    }

    /// The last component, without trailing slashes: "/tmp/a.bin" → "a.bin", "out/" → "out",
    /// "/" → "/", "" → "".
    package static func lastComponent(of path: String) -> String {
        if path == "/" { return path }
        let trimmed = withoutTrailingSlashes(path)
        guard let slash = trimmed.lastIndex(of: "/") else { return String(trimmed) }
        return String(trimmed[trimmed.index(after: slash)...])
    }

    /// The folder that holds the last component, without trailing slashes and with runs of `/`
    /// made one: "/tmp/a.bin" → "/tmp", "a.bin" → "", "/a" → "/", "out//sub/" → "out", "/" → "/".
    package static func directory(of path: String) -> String {
        if path == "/" { return path }
        let trimmed = withoutTrailingSlashes(path)
        guard let slash = trimmed.lastIndex(of: "/") else { return "" }
        let folder = withoutTrailingSlashes(trimmed[..<slash])
        if folder.isEmpty { return path.hasPrefix("/") && !trimmed.isEmpty ? "/" : "" }
        var collapsed = ""
        for character in folder where !(character == "/" && collapsed.hasSuffix("/")) { collapsed.append(character) }
        return collapsed
    }

    private static func withoutTrailingSlashes(_ path: some StringProtocol) -> Substring {
        var end = path.endIndex
        while end > path.startIndex, path[path.index(before: end)] == "/" { end = path.index(before: end) }
        return Substring(path[..<end])
    }
}
