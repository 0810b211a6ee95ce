// swift-tools-version: 6.1
import Foundation
import PackageDescription

/// The CPU the numeric kernels are compiled for, as an LLVM CPU name and the x86-64 instruction
/// sets that name lets the compiler use. `$MNIST_SOFTMAX_TARGET_CPU` chooses it: empty for a
/// portable binary (the x86-64 baseline, SSE2), or one of the names in `knownTargetCPUs`. Unset,
/// it is the build machine's, read from /proc/cpuinfo like C's -march=native: `skylake-avx512`
/// with AVX-512 (the kernels' 16-lane vectors are single zmm registers), `haswell` with AVX2 and
/// FMA (ymm pairs), else the baseline (fused multiply-adds become library calls: correct, slow).
///
/// Only the kernels get the CPU's instructions. The library is built for the baseline and, before
/// the first kernel call, checks that the CPU it runs on has every instruction set in the list
/// (`KernelCPU`): on an older CPU the binary exits with a message naming what is missing and how
/// to build for it, never with SIGILL. The list reaches both targets as -D KERNELS_<SET> flags.
let knownTargetCPUs: [String: [String]] = {
    let v2 = ["SSE3", "SSSE3", "SSE4_1", "SSE4_2", "POPCNT", "CX16"]
    let v3 = v2 + ["AVX", "AVX2", "FMA", "F16C", "BMI1", "BMI2", "LZCNT", "MOVBE"]
    let v4 = v3 + ["AVX512F", "AVX512BW", "AVX512CD", "AVX512DQ", "AVX512VL"]
    return ["x86-64": [], "x86-64-v2": v2, "x86-64-v3": v3, "haswell": v3, "x86-64-v4": v4, "skylake-avx512": v4]
}()

func kernelTargetCPU() -> String? {
    if let chosen = ProcessInfo.processInfo.environment["MNIST_SOFTMAX_TARGET_CPU"] {
        guard !chosen.isEmpty else { return nil }
        guard knownTargetCPUs[chosen] != nil else {
            fatalError(
                "MNIST_SOFTMAX_TARGET_CPU=\(chosen): use one of \(knownTargetCPUs.keys.sorted()), or empty for a portable build"
            )
        }
        return chosen
    }
    #if arch(x86_64) && os(Linux)
    guard let cpuinfo = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
        let flagLine = cpuinfo.split(separator: "\n").first(where: { $0.hasPrefix("flags") })
    else { return nil }
    let flags = Set(flagLine.split(separator: " ").map(String.init))
    let v3 = ["avx", "avx2", "fma", "f16c", "bmi1", "bmi2", "abm", "movbe", "popcnt", "sse4_2", "ssse3", "cx16"]
    if v3.allSatisfy(flags.contains) {
        return ["avx512f", "avx512bw", "avx512cd", "avx512dq", "avx512vl"].allSatisfy(flags.contains)
            ? "skylake-avx512" : "haswell"
    }
    #endif
    return nil
}

let targetCPU = kernelTargetCPU()
/// -D KERNELS_AVX2 and the like: what the kernels were compiled to use, for `KernelCPU`'s check.
let instructionSetDefines: [SwiftSetting] = (targetCPU.flatMap { knownTargetCPUs[$0] } ?? []).map {
    .define("KERNELS_\($0)")
}

// Which target gets which flags, and why:
// - MNISTKernels (the numeric kernels: forward, cost, backward and update on validated shapes,
//   and the thread pool that runs them) gets -Ounchecked, which drops overflow and bounds traps
//   so that LLVM keeps the inner loops vectorised, -enforce-exclusivity=unchecked, which removes
//   dynamic exclusivity checks from the hot loops, and -target-cpu. Every index there comes from
//   shapes the library validated first; it reads no byte from outside.
// - MNISTFormats (everything that parses bytes from outside: IDX, gzip, safetensors, PNG, the
//   wheel's zip and pickle) and MNISTSoftmax (the domain library above it) keep Swift's checks in
//   release and are built for the baseline CPU, so that `--help`, `inspect` and `fetch` run on
//   any x86-64.
// Debug builds keep every check everywhere. scripts/check-flags.sh verifies this split in the
// build's own description (.build/release.yaml), and CI runs it.
let kernelFlags: [SwiftSetting] =
    instructionSetDefines + [
        .unsafeFlags(
            ["-Ounchecked", "-enforce-exclusivity=unchecked"] + (targetCPU.map { ["-target-cpu", $0] } ?? []),
            .when(configuration: .release))
    ]

let package = Package(
    name: "mnist-softmax",
    platforms: [.macOS(.v13)],
    products: [
        .library(name: "MNISTSoftmax", targets: ["MNISTSoftmax"]),
        // The file formats alone (IDX, gzip, PNG, zip, pickle, safetensors, protobuf), for a user
        // who reads or writes the files without the model; MNISTSoftmax re-exports it.
        .library(name: "MNISTFormats", targets: ["MNISTFormats"]),
        .executable(name: "mnist-softmax", targets: ["mnist-softmax"]),
        // Builders of small zip and pickle files, for the tests and the fuzz targets' seeds.
        .library(name: "MNISTSoftmaxFixtures", targets: ["MNISTSoftmaxFixtures"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-numerics", from: "1.1.1"),
        .package(url: "https://github.com/swhitty/FlyingFox", exact: "0.27.1"),
    ],
    targets: [
        .systemLibrary(
            name: "CZlib",
            pkgConfig: "zlib",
            providers: [.apt(["zlib1g-dev"]), .brew(["zlib"])]
        ),
        // Inflate for gzip files and zip entries, from Intel's ISA-L (igzip): about twice zlib's
        // speed on MNIST's images (docs/performance.md has the figures).
        .systemLibrary(
            name: "CISAL",
            pkgConfig: "libisal",
            providers: [.apt(["libisal-dev"]), .brew(["isa-l"])]
        ),
        // SHA-256 for the data digests, from the system's libcrypto (OpenSSL 3).
        .systemLibrary(
            name: "CCrypto",
            pkgConfig: "libcrypto",
            providers: [.apt(["libssl-dev"]), .brew(["openssl@3"])]
        ),
        .systemLibrary(
            name: "CLibPNG",
            pkgConfig: "libpng",
            providers: [.apt(["libpng-dev"]), .brew(["libpng"])]
        ),
        // __builtin_prefetch behind a one-line header: Swift cannot spell a prefetch, and calling
        // the LLVM intrinsic directly breaks unoptimised (sanitizer) builds.
        .target(name: "CPrefetch"),
        // CPUID and XGETBV, which Swift cannot spell: the instruction sets this CPU and OS support.
        .target(name: "CCPUFeatures"),
        .target(
            name: "MNISTKernels",
            dependencies: ["CPrefetch"],
            swiftSettings: kernelFlags
        ),
        // Everything that parses or writes bytes from outside: files, gzip, SHA-256, IDX, PNG, the
        // wheel's zip and pickle, safetensors, protobuf. Knows nothing of the model or training.
        .target(
            name: "MNISTFormats",
            dependencies: ["CZlib", "CISAL", "CCrypto", "CLibPNG"]
        ),
        .target(
            name: "MNISTSoftmax",
            dependencies: [
                "MNISTFormats",
                "CCPUFeatures",
                "MNISTKernels",
                .product(name: "RealModule", package: "swift-numerics"),
            ],
            swiftSettings: instructionSetDefines
        ),
        // The `serve` subcommand's HTTP server and page (Page/, embedded at build time), kept out of the library so that its users
        // do not link an HTTP stack. Only FlyingFox's socket layer: the HTTP/1.1 parsing is ours,
        // with limits on every line, header and deadline (docs/serve.md says why).
        .target(
            name: "MNISTSoftmaxServer",
            dependencies: [
                "MNISTSoftmax",
                .product(name: "FlyingSocks", package: "FlyingFox"),
            ],
            // The page as the files a browser gets, compiled into the binary as byte arrays
            // (`PackageResources`), so that `serve` needs no file beside it.
            resources: [
                .embedInCode("Page/index.html"),
                .embedInCode("Page/page.css"),
                .embedInCode("Page/page.js"),
                .embedInCode("Page/train.js"),
            ]
        ),
        .executableTarget(
            name: "mnist-softmax",
            dependencies: [
                "MNISTSoftmax",
                "MNISTSoftmaxServer",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .target(name: "MNISTSoftmaxFixtures", dependencies: ["MNISTSoftmax"], path: "Tests/Fixtures"),
        // Helpers every test target shares: scratch folders, error comparisons, seeded synthetic
        // data sets, the repository's root, and the sample digits' stroke drawer (with libpng).
        .target(
            name: "MNISTSoftmaxTestSupport",
            dependencies: ["MNISTSoftmax", "CLibPNG"],
            path: "Tests/Support"
        ),
        // The library and its kernels, in process, on tiny data sets built in code.
        .testTarget(
            name: "MNISTSoftmaxUnitTests",
            dependencies: [
                "MNISTSoftmax",
                "MNISTSoftmaxFixtures",
                "MNISTSoftmaxTestSupport",
                "CLibPNG",
                .product(name: "RealModule", package: "swift-numerics"),
            ]
        ),
        // The built `mnist-softmax` executable run as a user runs it, and everything that needs the
        // real MNIST files (skipped without them; scripts/test.sh counts the skips).
        .testTarget(
            name: "MNISTSoftmaxEndToEndTests",
            dependencies: ["MNISTSoftmax", "MNISTSoftmaxTestSupport"]
        ),
        // The HTTP server's request parsing, without a socket.
        .testTarget(
            name: "MNISTSoftmaxServerTests",
            dependencies: ["MNISTSoftmaxServer"]
        ),
    ]
)
