// swift-tools-version:6.2
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    // A file uses only what it imports itself, and imports are internal unless marked: a module's
    // dependencies do not leak into its users by accident.
    .enableUpcomingFeature("MemberImportVisibility"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "vice-registry",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "vice", targets: ["vice"]),
        .library(name: "ViceCore", targets: ["ViceCore"]),
        .library(name: "ViceAdapterTesting", targets: ["ViceAdapterTesting"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1", traits: []),
        .package(url: "https://github.com/hummingbird-project/hummingbird-auth.git", from: "2.5.0"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
    ],
    targets: [
        // The leaf every module may use: byte streams, hex, locks, blocking I/O, the egress policy,
        // error classification. It knows nothing of images or environments.
        .target(
            name: "ViceSupport",
            swiftSettings: swiftSettings
        ),
        // The domain: models, use cases, jobs and the seams. No HTTP framework, database or adapter.
        .target(
            name: "ViceCore",
            dependencies: [
                "ViceSupport",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings
        ),
        // Content-addressed blob store on the local file system.
        .target(
            name: "ViceStorage",
            dependencies: ["ViceCore", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: swiftSettings
        ),
        // MetadataStore + durable JobQueue on SQLite (the embedded default).
        .target(
            name: "ViceSQLite",
            dependencies: ["ViceCore", .product(name: "GRDB", package: "GRDB.swift")],
            swiftSettings: swiftSettings
        ),
        // MetadataStore + JobQueue on PostgreSQL, shared by several registry nodes.
        .target(
            name: "VicePostgres",
            dependencies: [
                "ViceCore", "ViceSupport",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // libcurl, with typed wrappers for its variadic setopt/getinfo.
        .target(
            name: "CCurl",
            linkerSettings: [.linkedLibrary("curl")]
        ),
        // An async, streaming HTTP client on libcurl: TCP, TLS and unix sockets.
        .target(
            name: "ViceHTTP",
            dependencies: ["CCurl", "ViceSupport"],
            swiftSettings: swiftSettings
        ),
        // Docker Engine API adapter (unix socket or TCP).
        .target(
            name: "ViceDocker",
            dependencies: ["ViceCore", "ViceHTTP", .product(name: "Crypto", package: "swift-crypto"), .product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings
        ),
        // OpenStack adapter: Keystone v3 identity, Glance v2 images.
        .target(
            name: "ViceOpenStack",
            dependencies: ["ViceCore", "ViceHTTP", .product(name: "Crypto", package: "swift-crypto"), .product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings
        ),
        // Adapters in their own process: the vice-adapter/1 protocol over a unix socket.
        .target(
            name: "ViceExternal",
            dependencies: ["ViceCore", "ViceHTTP", .product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings
        ),
        // Disk format conversion with qemu-img, for targets that want another format.
        .target(
            name: "ViceConversion",
            dependencies: ["ViceCore"],
            swiftSettings: swiftSettings
        ),
        // liblz4 (Debian liblz4-dev): the block transfer protocol's compressed frames.
        .systemLibrary(
            name: "CLZ4",
            pkgConfig: "liblz4",
            providers: [.apt(["liblz4-dev"])]
        ),
        // bwLehrpool adapter: Thrift (framed, strict binary) over TCP/TLS and the block transfer protocol.
        .target(
            name: "ViceBwLehrpool",
            dependencies: [
                "ViceCore", "CLZ4",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .systemLibrary(
            name: "CLibYAML",
            pkgConfig: "yaml-0.1",
            providers: [.apt(["libyaml-dev"])]
        ),
        // YAML (libyaml) → value tree with source marks → Decodable configuration.
        .target(
            name: "ViceConfig",
            dependencies: ["CLibYAML", "ViceCore"],
            swiftSettings: swiftSettings
        ),
        // S3-compatible object stores (AWS, SeaweedFS, Ceph RGW): Signature V4 over the libcurl client.
        .target(
            name: "ViceS3",
            dependencies: ["ViceCore", "ViceHTTP", "ViceSupport", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: swiftSettings
        ),
        // The `vice` client's library: the /v1 API over libcurl, profiles, transfers that resume,
        // job watching through the event stream, tables, JSON and YAML, progress bars.
        .target(
            name: "ViceClient",
            dependencies: ["ViceCore", "ViceHTTP", "ViceSupport", "ViceConfig", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: swiftSettings
        ),
        // The HTTP control API (Hummingbird): routes, Basic auth, JSON errors, OpenAPI document.
        .target(
            name: "ViceServer",
            dependencies: [
                "ViceCore",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdBcrypt", package: "hummingbird-auth"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
            ],
            resources: [.embedInCode("OpenAPI/openapi.json")],
            swiftSettings: swiftSettings
        ),
        // The web dashboard at /ui/: server-rendered pages, a small script of its own against the
        // /v1 API and the event stream; assets embedded, no build step.
        .target(
            name: "ViceDashboard",
            dependencies: [
                "ViceCore", "ViceServer",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            resources: [.embedInCode("Assets/dashboard.js"), .embedInCode("Assets/dashboard.css")],
            swiftSettings: swiftSettings
        ),
        // The in-memory adapter: environments that live in the process (demos, tests, the
        // reference for adapter authors). The executable may link it.
        .target(
            name: "ViceInMemory",
            dependencies: ["ViceCore"],
            swiftSettings: swiftSettings
        ),
        // For tests and adapter authors only: the adapter conformance suite.
        .target(
            name: "ViceAdapterTesting",
            dependencies: ["ViceCore", .product(name: "Crypto", package: "swift-crypto"), .product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings
        ),
        // The executable: the only place that wires concrete types together.
        .executableTarget(
            name: "vice",
            dependencies: [
                "ViceCore", "ViceStorage", "ViceS3", "ViceSQLite", "VicePostgres", "ViceConfig", "ViceServer", "ViceDashboard", "ViceClient", "ViceInMemory", "ViceDocker", "ViceOpenStack", "ViceExternal", "ViceBwLehrpool", "ViceConversion", /* new-adapter: vice dependencies */
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            swiftSettings: swiftSettings
        ),
        // `swift package --allow-writing-to-package-directory new-adapter --name Foo`: scaffolds an adapter target, its test and registration.
        .plugin(
            name: "NewAdapter",
            capability: .command(
                intent: .custom(verb: "new-adapter", description: "Scaffold a compiled-in adapter with its conformance test"),
                permissions: [.writeToPackageDirectory(reason: "It adds Sources/ViceFoo, Tests/ViceFooTests and their registration")]),
            path: "Plugins/NewAdapter"
        ),
        // new-adapter: targets (scaffolded adapters are inserted above this line)
        // Fixtures shared by the test targets (temporary directories, a registry on real stores).
        .target(
            name: "ViceTestSupport",
            dependencies: [
                "ViceCore", "ViceStorage", "ViceSQLite", "VicePostgres", "ViceServer", "ViceAdapterTesting", "ViceInMemory", "ViceConversion",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Tests/ViceTestSupport",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ViceCoreTests",
            dependencies: ["ViceInMemory", "ViceCore", "ViceStorage", "ViceSQLite", "ViceAdapterTesting", "ViceConversion", "ViceTestSupport", .product(name: "Crypto", package: "swift-crypto"), .product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ViceConversionTests",
            dependencies: ["ViceConversion", "ViceCore", "ViceTestSupport"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ViceInMemoryTests",
            dependencies: ["ViceInMemory", "ViceCore", "ViceAdapterTesting", .product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ViceStorageTests",
            dependencies: ["ViceStorage", "ViceS3", "ViceCore", "ViceTestSupport", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: swiftSettings
        ),
        // The MetadataStore/JobQueue conformance suite, run against SQLite and PostgreSQL.
        .testTarget(
            name: "ViceStoreTests",
            dependencies: ["ViceSQLite", "VicePostgres", "ViceCore", "ViceTestSupport", .product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ViceHTTPTests",
            dependencies: [
                "ViceHTTP", "ViceCore", "ViceTestSupport",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ViceDockerTests",
            dependencies: ["ViceDocker", "ViceHTTP", "ViceCore", "ViceTestSupport", "ViceAdapterTesting", "ViceSQLite", .product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ViceOpenStackTests",
            dependencies: ["ViceOpenStack", "ViceHTTP", "ViceCore", "ViceTestSupport", "ViceAdapterTesting", "ViceStorage", .product(name: "Logging", package: "swift-log")],
            exclude: ["Peers"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ViceExternalTests",
            dependencies: ["ViceExternal", "ViceCore", "ViceTestSupport", "ViceAdapterTesting", .product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ViceBwLehrpoolTests",
            dependencies: ["ViceBwLehrpool", "ViceOpenStack", "ViceConversion", "ViceCore", "ViceTestSupport", "ViceAdapterTesting", .product(name: "Crypto", package: "swift-crypto"), .product(name: "Logging", package: "swift-log")],
            exclude: ["Peer"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ViceConfigTests",
            dependencies: ["ViceConfig", "ViceCore", "ViceTestSupport"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ViceServerTests",
            dependencies: [
                "ViceInMemory",
                "ViceCore", "ViceStorage", "ViceSQLite", "ViceServer", "ViceAdapterTesting", "ViceTestSupport",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ViceDashboardTests",
            dependencies: [
                "ViceDashboard", "ViceServer", "ViceCore", "ViceTestSupport",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ViceClientTests",
            dependencies: ["ViceClient", "ViceConfig", "ViceCore", "ViceTestSupport"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ViceS3Tests",
            dependencies: ["ViceS3"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ViceProcessTests",
            dependencies: ["ViceInMemory", "ViceCore", "ViceTestSupport", "ViceAdapterTesting", .product(name: "Crypto", package: "swift-crypto")],
            exclude: ["Peers"],
            swiftSettings: swiftSettings
        ),
    ]
)
