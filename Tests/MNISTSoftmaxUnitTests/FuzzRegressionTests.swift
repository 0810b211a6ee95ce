import MNISTSoftmax
import MNISTSoftmaxTestSupport
import Testing

/// Inputs that the fuzz targets in Fuzz/ (scripts/fuzz.sh) found crashing the readers, kept as
/// the smallest bytes that showed each bug.
struct FuzzRegressionTests {
    /// FuzzIDX and FuzzIDXGzip, first runs: a zero last dimension after dimensions whose product
    /// overflows. The reader rightly sized the payload as 0, then the array's own consistency
    /// check multiplied all four dimensions and trapped on the overflow.
    @Test(
        arguments: [
            [
                0x00, 0x00, 0x0C, 0x04, 0x3C, 0x00, 0x00, 0xF7, 0x3C, 0xFF, 0x00, 0xFF, 0x01, 0x00, 0x00, 0x00, 0x00,
                0x00, 0x00, 0x00,
            ],
            [
                0x00, 0x00, 0x0C, 0x04, 0x09, 0xF9, 0xFF, 0xFE, 0x00, 0xFF, 0x00, 0x00, 0xFF, 0x00, 0x00, 0x00, 0x00,
                0x00, 0x00, 0x00,
            ],
        ] as [[UInt8]])
    func overflowingDimensionsBeforeAZeroOneDecodeToAnEmptyArray(_ bytes: [UInt8]) throws {
        for input in [bytes, Gzip.compress(bytes)] {
            let array = try IDXArray.decode(input, path: "fuzz")
            #expect(array.dimensions.last == 0)
            #expect(array.elements == .int32([]))
            #expect(array.encoded() == bytes)
        }
    }
}
