// swift-tools-version: 6.1
import PackageDescription

// Release flags: -Ounchecked drops overflow and bounds traps inside the numeric kernels
// (every index there is derived from validated shapes), which lets LLVM vectorise the
// inner loops; `-enforce-exclusivity=unchecked` removes dynamic exclusivity checks from
// the hot loops. Debug builds keep every check.
let kernelFlags: [SwiftSetting] = [
    .unsafeFlags(["-Ounchecked", "-enforce-exclusivity=unchecked"], .when(configuration: .release)),
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
        .target(
            name: "MNISTSoftmax",
            dependencies: [
                "CZlib",
                "CLibPNG",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "RealModule", package: "swift-numerics"),
            ],
            swiftSettings: kernelFlags
        ),
        .executableTarget(
            name: "mnist-softmax",
            dependencies: [
                "MNISTSoftmax",
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
