// swift-tools-version:6.2
// A REST client generated from the registry's published OpenAPI document (swift-openapi-generator)
// and used against a real `vice serve` for a whole cycle. A package of its own: the generator and
// its dependencies stay out of the registry's build. Run by script/test (script/client-test).
import PackageDescription

let package = Package(
    name: "vice-client-contract",
    platforms: [.macOS(.v14)],
    dependencies: [
        .package(url: "https://github.com/apple/swift-openapi-generator.git", from: "1.14.3"),
        .package(url: "https://github.com/apple/swift-openapi-runtime.git", from: "1.13.4"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
    ],
    targets: [
        .testTarget(
            name: "ViceClientTests",
            dependencies: [
                .product(name: "OpenAPIRuntime", package: "swift-openapi-runtime"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
            ],
            plugins: [.plugin(name: "OpenAPIGenerator", package: "swift-openapi-generator")]
        ),
    ]
)
