import Foundation
import MNISTSoftmax
import Testing

/// The library imports FoundationEssentials, not Foundation; these check that what replaced
/// Foundation's path methods, JSONSerialization's syntax errors, `String(format:)` and
/// `CharacterSet.whitespaces` gives Foundation's results (this test binary links Foundation).
struct FoundationParityTests {
    /// Paths as users type them. (Foundation on Linux traps on a one-character relative name
    /// such as "a" in `deletingLastPathComponent`, so none is listed.)
    static let paths = [
        "", "/", "//", "ab", "/a", "/a/", "a/b", "a//b", "a/b/", "/tmp/x.safetensors", "./x", "../x/",
        "//a//b//", "x.safetensors", "out/templates", "out/templates/", "/home/me/data/mnist",
    ]

    @Test func pathNamesAreTakenApartAndJoinedAsNSStringDoes() {
        for path in Self.paths {
            let ns = path as NSString
            #expect(PathName.lastComponent(of: path) == ns.lastPathComponent, "\(path)")
            #expect(PathName.directory(of: path) == ns.deletingLastPathComponent, "\(path)")
            for name in ["", "f", "train-images-idx3-ubyte.gz"] {
                #expect(PathName.joining(path, name) == ns.appendingPathComponent(name), "\(path) + \(name)")
            }
        }
    }

    @Test func oneCharacterNamesHaveNoFolder() {
        #expect(PathName.directory(of: "a") == "")
        #expect(PathName.directory(of: "a/") == "")
        #expect(PathName.lastComponent(of: "a") == "a")
    }

    /// Each kind of error JSONSerialization names, at the start, middle and end of the text.
    static let brokenJSON = [
        "{not json", "{\"a\": [1, 2,, 3]}", "", "  ", "{", "{\"a\"", "{\"a\":}", "[01]", "[-]", "[1.]", "[1e]",
        "[\"\\x\"]", "[\"\\u12G4\"]", "[\"a\u{01}\"]", "5", "\"x\"", "[tru]", "[nul", "[1]x", "{\"a\":1,}", "[1,]",
        String(repeating: "[", count: 600), "[\"\\ud800x\"]", "[\"\\ud800\\u0041\"]", "[\"\\udc00\"]", "[-01]",
        "[1.5e+]", "{\"a\" 1}", "{1:2}", "[1 2]", "[\"abc", "[\"\\", "[\"\\u12", "[tx]", "[1e5, -0.5E-3, true]",
        "{\"__metadata__\": {\"format\": \"mnist-softmax\"}, \"bias\": {\"shape\": [10]}}  ",
    ]

    @Test func jsonSyntaxErrorsAreDescribedAsJSONSerializationDescribesThem() {
        var texts = Self.brokenJSON.map { Array($0.utf8) }
        texts.append([UInt8(ascii: "["), UInt8(ascii: "\""), 0xFF, 0xFE, UInt8(ascii: "\""), UInt8(ascii: "]")])
        for text in texts {
            let foundation: String?
            do {
                _ = try JSONSerialization.jsonObject(with: Data(text))
                foundation = nil
            } catch {
                foundation = (error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String
            }
            #expect(JSONSyntax.firstError(in: text) == foundation, "\(String(decoding: text, as: UTF8.self))")
        }
    }

    @Test func printfFormatsMatchStringFormat() {
        for value in [0, 1, -1, 0.5, 0.125, 2.5, 92.6199, 1e-7, 123_456.789, -0.0004, .infinity, .nan] {
            for format in ["%.1f", "%.4g", "%.3f", "%.2f%%", "%.4f", "%.3g", "%.0f"] {
                #expect(formatted(format, value) == String(format: format, value), "\(format) \(value)")
            }
        }
        #expect(formatted("%.3f", Float(0.1234)) == String(format: "%.3f", Float(0.1234)))
        let long = formatted("%.100f", 1.0)
        #expect(long.count == 102 && long.hasPrefix("1.000"))
    }

    @Test func trimmingTabsAndSpaceSeparatorsMatchesCharacterSetWhitespaces() {
        let isWhitespace = { (scalar: Unicode.Scalar) in
            scalar == "\t" || scalar.properties.generalCategory == .spaceSeparator
        }
        for text in ["", " ", "\t 42 \t", "  a b  ", "\u{00A0}x\u{3000}", "x\r", "\nx", "é"] {
            #expect(
                text.trimming(where: isWhitespace) == text.trimmingCharacters(in: .whitespaces),
                "\(text.debugDescription)")
        }
    }
}
