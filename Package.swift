// swift-tools-version: 6.1
import Foundation
import PackageDescription

/// The CPU whose vector instructions the library may use, like C's -march=native: the build
/// machine's, read from /proc/cpuinfo, unless $MNIST_SOFTMAX_TARGET_CPU names one (an empty value
/// means the architecture's baseline). With AVX-512 the kernels' 16-lane vectors are single zmm
/// registers and their fused multiply-adds single instructions; with AVX2 + FMA they are ymm pairs.
/// Without FMA in hardware, `addingProduct` becomes a library call per lane: correct, but slow.
func hostTargetCPU() -> String? {
    if let chosen = ProcessInfo.processInfo.environment["MNIST_SOFTMAX_TARGET_CPU"] {
        return chosen.isEmpty ? nil : chosen
    }
    #if arch(x86_64) && os(Linux)
    guard let cpuinfo = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
          let flagLine = cpuinfo.split(separator: "\n").first(where: { $0.hasPrefix("flags") })
    else { return nil }
    let flags = Set(flagLine.split(separator: " ").map(String.init))
    if ["avx512f", "avx512bw", "avx512dq", "avx512vl", "fma"].allSatisfy(flags.contains) { return "skylake-avx512" }
    if ["avx2", "fma", "f16c"].allSatisfy(flags.contains) { return "haswell" }
    #endif
    return nil
}

// Release flags for the library:
// - -Ounchecked drops overflow and bounds traps inside the numeric kernels (every index there
//   comes from validated shapes), which lets LLVM keep the inner loops vectorised;
// - -enforce-exclusivity=unchecked removes dynamic exclusivity checks from the hot loops;
// - -target-cpu enables the host's vector extensions (see hostTargetCPU).
// Debug builds keep every check.
let kernelFlags: [SwiftSetting] = [
    .unsafeFlags(["-Ounchecked", "-enforce-exclusivity=unchecked"]
                 + (hostTargetCPU().map { ["-target-cpu", $0] } ?? []),
                 .when(configuration: .release)),
]

let package = Package(
    name: "mnist-softmax",
    platforms: [.macOS(.v13)],
    products: [
        .library(name: "MNISTSoftmax", targets: ["MNISTSoftmax"]),
        .executable(name: "mnist-softmax", targets: ["mnist-softmax"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-numerics", from: "1.1.1"),
        .package(url: "https://github.com/swhitty/FlyingFox", exact: "0.27.1"),
    ],
    targets: [
        .systemLibrary(
            name: "CZlib",
            pkgConfig: "zlib",
            providers: [.apt(["zlib1g-dev"]), .brew(["zlib"])]
        ),
        .systemLibrary(
            name: "CLibPNG",
            pkgConfig: "libpng",
            providers: [.apt(["libpng-dev"]), .brew(["libpng"])]
        ),
        // __builtin_prefetch behind a one-line header: Swift cannot spell a prefetch, and calling
        // the LLVM intrinsic directly breaks unoptimised (sanitizer) builds.
        .target(name: "CPrefetch"),
        .target(
            name: "MNISTSoftmax",
            dependencies: [
                "CZlib",
                "CLibPNG",
                "CPrefetch",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "RealModule", package: "swift-numerics"),
            ],
            swiftSettings: kernelFlags
        ),
        // The `serve` subcommand's HTTP server and page, kept out of the library so that its users
        // do not link an HTTP stack.
        .target(
            name: "MNISTSoftmaxServer",
            dependencies: [
                "MNISTSoftmax",
                .product(name: "FlyingFox", package: "FlyingFox"),
                .product(name: "FlyingSocks", package: "FlyingFox"),
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
        .testTarget(
            name: "MNISTSoftmaxTests",
            dependencies: [
                "MNISTSoftmax",
                "CLibPNG",
                .product(name: "RealModule", package: "swift-numerics"),
            ]
        ),
    ]
)
