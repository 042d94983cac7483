// swift-tools-version:6.1
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

/// The release binary on Linux is linked by lld with packed relative relocations (DT_RELR) and exports no
/// symbols: the loader then reads 38 KiB of relocations instead of 2.3 MiB and no 20,000-symbol table, which
/// takes 1.5 MiB off the static build's idle RSS and 0.3 MiB off the dynamic one's (issue 23; README "Memory").
let releaseLinkerSettings: [LinkerSetting] = [
    .unsafeFlags(
        ["-use-ld=lld", "-Xlinker", "-z", "-Xlinker", "pack-relative-relocs", "-Xlinker", "--no-export-dynamic"],
        .when(platforms: [.linux], configuration: .release)),
]

let package = Package(
    name: "presignd",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "presignd", targets: ["presignd"]),
        .library(name: "S3Signing", targets: ["S3Signing"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.1.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.6.0"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.0.0"),
        .package(url: "https://github.com/vapor/jwt-kit.git", from: "5.7.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.5.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.0.0"),
    ],
    targets: [
        .target(name: "JSONKit", swiftSettings: swiftSettings),
        .target(
            name: "S3Signing",
            dependencies: ["JSONKit", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "PresignCore",
            dependencies: ["JSONKit", "S3Signing", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: swiftSettings
        ),
        .systemLibrary(name: "CUV", pkgConfig: "libuv", providers: [.apt(["libuv1-dev"])]),
        .systemLibrary(name: "CHTTPParser", providers: [.apt(["libhttp-parser-dev"])]),
        .target(name: "UVLoop", dependencies: ["CUV"], swiftSettings: swiftSettings),
        .target(
            name: "LineLog",
            dependencies: ["JSONKit", "UVLoop", .product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "HTTPServer",
            dependencies: ["JSONKit", "UVLoop", "CUV", "CHTTPParser", .product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "PresignConfig",
            dependencies: [
                "JSONKit",
                "PresignCore",
                "S3Signing",
                "RedisClient",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "JWTKit", package: "jwt-kit"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "PresignRuntime",
            dependencies: [
                "HTTPServer", "JSONKit", "PresignCore", "PresignConfig", "S3Client", "S3Signing", "UVLoop",
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "PresignAPI",
            dependencies: [
                "JSONKit",
                "PresignCore",
                "UVLoop",
                "PresignConfig",
                "PresignRuntime",
                "S3Client",
                "S3Signing",
                "HTTPServer",
                "ShareLinks",
                "RedisClient",
                "LineLog",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            resources: [.copy("Resources/openapi.yaml"), .copy("Resources/demo.html")],
            swiftSettings: swiftSettings
        ),
        .systemLibrary(name: "CCurl", pkgConfig: "libcurl", providers: [.apt(["libcurl4-openssl-dev"])]),
        .target(
            name: "S3Client",
            dependencies: ["CCurl", "CUV", "UVLoop", "JSONKit", "S3Signing"],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "AdminProxy",
            dependencies: ["S3Client", "PresignCore", "PresignConfig", "PresignRuntime", "HTTPServer", "JSONKit", "UVLoop", "S3Signing", "LineLog", .product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings
        ),
        .systemLibrary(name: "CSQLite", pkgConfig: "sqlite3", providers: [.apt(["libsqlite3-dev"])]),
        .target(
            name: "ShareLinks",
            dependencies: ["CSQLite", "JSONKit", "UVLoop", "RedisClient", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "RedisClient",
            dependencies: ["CUV", "UVLoop", "JSONKit", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: swiftSettings
        ),
        .target(name: "HTTPFuzzHarness", dependencies: ["HTTPServer"], swiftSettings: swiftSettings),
        .systemLibrary(name: "CFuzzerDriver"),
        .target(
            name: "APIFuzzHarness",
            dependencies: ["JSONKit", "PresignConfig", "PresignAPI", "HTTPServer", "ShareLinks", .product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "presignd-fuzz-api",
            dependencies: ["APIFuzzHarness", "CFuzzerDriver"],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "presignd-fuzz",
            dependencies: ["HTTPFuzzHarness", "CFuzzerDriver"],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "presignd",
            dependencies: [
                "S3Signing",
                "JSONKit",
                "UVLoop",
                "HTTPServer",
                "PresignConfig",
                "PresignAPI",
                "AdminProxy",
                "ShareLinks",
                "LineLog",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: swiftSettings,
            linkerSettings: releaseLinkerSettings
        ),
        // Test support shared by the test targets (the seeded generator, a test-driven loop, loopback sockets): a
        // regular target, not a product, that only test targets depend on.
        .target(name: "TestSupport", dependencies: ["UVLoop", "CUV"], path: "Tests/TestSupport", swiftSettings: swiftSettings),
        .testTarget(name: "JSONKitTests", dependencies: ["JSONKit", "TestSupport"], swiftSettings: swiftSettings),
        .testTarget(name: "PresignCoreTests", dependencies: ["PresignCore", "JSONKit", "S3Signing", "TestSupport"], swiftSettings: swiftSettings),
        .testTarget(name: "LineLogTests", dependencies: ["LineLog", "TestSupport", .product(name: "Logging", package: "swift-log")], swiftSettings: swiftSettings),
        .testTarget(name: "PresignConfigTests", dependencies: ["PresignConfig", "PresignCore", "S3Signing", "TestSupport"], swiftSettings: swiftSettings),
        .testTarget(
            name: "PresignRuntimeTests",
            dependencies: ["PresignRuntime", "PresignConfig", "PresignCore", "S3Signing", "TestSupport"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "S3SigningTests",
            dependencies: ["S3Signing", "TestSupport", .product(name: "Crypto", package: "swift-crypto")],
            exclude: ["Fixtures"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "PresignAPITests",
            dependencies: [
                "PresignAPI", "PresignConfig", "PresignCore", "PresignRuntime", "HTTPServer", "S3Client", "S3Signing", "APIFuzzHarness", "JSONKit",
                "LineLog", "RedisClient", "ShareLinks", "AdminProxy", "UVLoop", "TestSupport",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "JWTKit", package: "jwt-kit"),
            ],
            exclude: ["FuzzRegressions", "Replay"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "S3ClientTests",
            dependencies: ["S3Client", "S3Signing", "UVLoop", "CUV", "TestSupport", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "AdminProxyTests",
            dependencies: ["AdminProxy", "HTTPServer", "LineLog", "PresignAPI", "PresignConfig", "S3Client", "S3Signing", "TestSupport", .product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings
        ),
        .testTarget(name: "ShareLinksTests", dependencies: ["ShareLinks", "RedisClient", "UVLoop", "TestSupport"], exclude: ["Fixtures"], swiftSettings: swiftSettings),
        .testTarget(name: "RedisClientTests", dependencies: ["RedisClient", "UVLoop", "TestSupport"], swiftSettings: swiftSettings),
        .testTarget(name: "UVLoopTests", dependencies: ["UVLoop", "TestSupport"], swiftSettings: swiftSettings),
        .testTarget(
            name: "HTTPServerTests",
            dependencies: ["HTTPServer", "HTTPFuzzHarness", "UVLoop"],
            exclude: ["FuzzRegressions"],
            swiftSettings: swiftSettings
        ),
    ],
    swiftLanguageModes: [.v6]
)
