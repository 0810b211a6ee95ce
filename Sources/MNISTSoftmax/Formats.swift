// The file formats are part of this library's vocabulary: its API takes and returns `GrayImage`,
// `IDXArray`, `LocatedError` and `SafeTensorsFile`, so `import MNISTSoftmax` brings them along.
@_exported import MNISTFormats
