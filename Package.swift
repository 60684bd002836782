// swift-tools-version:6.2
import PackageDescription

// SIMD speed needs a CPU target (see README, "Build flags"); those flags come from the Makefile,
// never from `unsafeFlags` here, so Tessel stays usable as a versioned SwiftPM dependency.
let package = Package(
    name: "Tessel",
    products: [
        .library(name: "Tessel", targets: ["Tessel"]),
        .library(name: "TesselNN", targets: ["TesselNN"]),
        .library(name: "TesselData", targets: ["TesselData"]),
        .library(name: "TesselServe", targets: ["TesselServe"]),
        .executable(name: "tessel", targets: ["tessel"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.4.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.0.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.0.0"),
    ],
    targets: [
        .systemLibrary(name: "COpenCL", path: "Sources/COpenCL"),
        .target(name: "CTesselCPU", path: "Sources/CTesselCPU"),
        .executableTarget(name: "KernelEmbedder", path: "Sources/KernelEmbedder"),
        .plugin(name: "EmbedKernels", capability: .buildTool(), dependencies: ["KernelEmbedder"]),
        .target(
            name: "Tessel",
            dependencies: ["COpenCL", "CTesselCPU"],
            plugins: ["EmbedKernels"]
        ),
        .target(name: "TesselNN", dependencies: ["Tessel"]),
        .systemLibrary(name: "CZlib", path: "Sources/CZlib"),
        .systemLibrary(name: "CPNG", path: "Sources/CPNG"),
        .target(name: "TesselData", dependencies: ["Tessel", "TesselNN", "CZlib", "CPNG"]),
        .target(name: "TesselServe", dependencies: [
            "Tessel", "TesselData",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "Prometheus", package: "swift-prometheus"),
        ]),
        .executableTarget(
            name: "tessel",
            dependencies: ["Tessel", "TesselNN", "TesselData", "TesselServe",
                           .product(name: "Hummingbird", package: "hummingbird"), .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        .testTarget(name: "TesselTests", dependencies: ["Tessel"]),
        .testTarget(name: "TesselNNTests", dependencies: ["TesselNN"]),
        .testTarget(name: "TesselDataTests", dependencies: ["TesselData"]),
        .testTarget(name: "TesselServeTests", dependencies: [
            "TesselServe", .product(name: "HummingbirdTesting", package: "hummingbird"),
        ]),
    ]
)
