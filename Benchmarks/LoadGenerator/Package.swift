// swift-tools-version:6.0
import PackageDescription

// A closed-loop HTTP load generator for `tessel serve` (Benchmarks/serve_load.py --client swift,
// scripts/gpu-box.sh). Its own package, so Tessel's build and CI do not compile an HTTP client
// stack they never use.
let package = Package(
    name: "LoadGenerator",
    dependencies: [
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", from: "0.2.0"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        .executableTarget(name: "tessel-load", dependencies: [
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "Histogram", package: "hdrhistogram-swift"),
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
    ]
)
