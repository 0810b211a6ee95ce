// swift-tools-version: 5.4
import PackageDescription

// libFuzzer targets for the readers that take untrusted bytes. A package of its own, so that the
// main package's `swift build` and `swift test` never see them: each target's main.swift defines
// `LLVMFuzzerTestOneInput` and is compiled with `-parse-as-library -sanitize=fuzzer`, so that
// libFuzzer supplies `main`. Build and run them with scripts/fuzz.sh.
//
// The IDX, gzip and zip targets use only MNISTFormats; the model-file and pickle targets use
// MNISTSoftmax, which adds the model (`StoredModel`) and MNIST (`PickledMNIST`) on top of those
// formats' readers.
//
// Tools version 5.4 on purpose: from 5.5 on, SwiftPM links every executable on Linux with
// `--defsym main=<module>_main`, a symbol that `-parse-as-library` leaves undefined.
let package = Package(
    name: "mnist-softmax-fuzz",
    dependencies: [
        .package(name: "mnist-softmax", path: "..")
    ],
    targets: [
        /// IDXArray.decode on the input as it is: raw IDX, or gzip when it starts with 1f 8b.
        .executableTarget(
            name: "FuzzIDX", dependencies: ["FuzzSupport", .product(name: "MNISTFormats", package: "mnist-softmax")]),
        /// IDXArray.decode on the input gzip-compressed first, so mutations of the IDX structure
        /// reach the streaming (compressed) reader, not only the gzip framing.
        .executableTarget(
            name: "FuzzIDXGzip",
            dependencies: ["FuzzSupport", .product(name: "MNISTFormats", package: "mnist-softmax")]),
        /// SafeTensorsFile.decode on the input.
        .executableTarget(
            name: "FuzzModelFile",
            dependencies: ["FuzzSupport", .product(name: "MNISTSoftmax", package: "mnist-softmax")]),
        /// WheelArchive.extract (the PyPI fallback's zip reader) on the input.
        .executableTarget(
            name: "FuzzWheel", dependencies: ["FuzzSupport", .product(name: "MNISTFormats", package: "mnist-softmax")]),
        /// PickledMNIST (the PyPI fallback's pickle reader) on the input.
        .executableTarget(
            name: "FuzzPickle", dependencies: ["FuzzSupport", .product(name: "MNISTSoftmax", package: "mnist-softmax")]),
        /// The seed corpora, built in code (never MNIST data), and the seed-writing entry point.
        .target(
            name: "FuzzSupport",
            dependencies: [
                .product(name: "MNISTSoftmax", package: "mnist-softmax"),
                .product(name: "MNISTSoftmaxFixtures", package: "mnist-softmax"),
            ]),
    ]
)
