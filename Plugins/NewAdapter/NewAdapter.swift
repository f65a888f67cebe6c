import Foundation
import PackagePlugin

/// `swift package --allow-writing-to-package-directory new-adapter --name Foo [--kind foo]`
///
/// Scaffolds a compiled-in adapter: `Sources/ViceFoo/FooAdapter.swift` (a working adapter that
/// keeps images as files in a folder, to be replaced by calls to the real backend), its
/// conformance test `Tests/ViceFooTests/FooConformanceTests.swift`, the two targets in
/// `Package.swift` and the registration in `Sources/vice/RegistryAssembly.swift`. The result
/// builds and its test passes as generated.
@main
struct NewAdapter: CommandPlugin {
    func performCommand(context: PluginContext, arguments: [String]) async throws {
        var extractor = ArgumentExtractor(arguments)
        guard let name = extractor.extractOption(named: "name").first else {
            throw ScaffoldError("usage: swift package --allow-writing-to-package-directory new-adapter --name Foo [--kind foo]")
        }
        guard let first = name.unicodeScalars.first, CharacterSet.uppercaseLetters.contains(first),
              name.unicodeScalars.allSatisfy({ CharacterSet.alphanumerics.contains($0) && $0.isASCII }) else {
            throw ScaffoldError("--name must be UpperCamelCase letters and digits (e.g. Proxmox), not '\(name)'")
        }
        let kind = extractor.extractOption(named: "kind").first ?? name.lowercased()
        guard !kind.isEmpty, kind.unicodeScalars.allSatisfy({ $0.isASCII && (CharacterSet.lowercaseLetters.contains($0)
            || CharacterSet.decimalDigits.contains($0) || "-_.".unicodeScalars.contains($0)) }) else {
            throw ScaffoldError("--kind must be lower case letters, digits, '-', '_' or '.', not '\(kind)'")
        }
        let root = URL(fileURLWithPath: context.package.directoryURL.path)
        let files = Scaffold(name: name, kind: kind)
        let manager = FileManager.default
        let sources = root.appendingPathComponent("Sources/Vice\(name)")
        let tests = root.appendingPathComponent("Tests/Vice\(name)Tests")
        for folder in [sources, tests] where manager.fileExists(atPath: folder.path) {
            throw ScaffoldError("\(folder.path) exists already: pick another --name")
        }

        // Edit the two registration points first, so nothing is written when a marker is missing.
        let package = root.appendingPathComponent("Package.swift")
        let assembly = root.appendingPathComponent("Sources/vice/RegistryAssembly.swift")
        let packageText = try files.registering(in: String(contentsOf: package, encoding: .utf8))
        let assemblyText = try files.registeringAdapter(in: String(contentsOf: assembly, encoding: .utf8))

        try manager.createDirectory(at: sources, withIntermediateDirectories: true)
        try manager.createDirectory(at: tests, withIntermediateDirectories: true)
        try files.adapter.write(to: sources.appendingPathComponent("\(name)Adapter.swift"), atomically: true, encoding: .utf8)
        try files.test.write(to: tests.appendingPathComponent("\(name)ConformanceTests.swift"), atomically: true, encoding: .utf8)
        try packageText.write(to: package, atomically: true, encoding: .utf8)
        try assemblyText.write(to: assembly, atomically: true, encoding: .utf8)
        print("""
            created Sources/Vice\(name)/\(name)Adapter.swift and Tests/Vice\(name)Tests/\(name)ConformanceTests.swift,
            added the targets to Package.swift and registered the adapter (kind '\(kind)') in Sources/vice/RegistryAssembly.swift.
            Next: swift build && swift test --filter Vice\(name)Tests, then replace the folder calls with your backend's
            (docs/adapters.md says what the registry promises and expects).
            """)
    }
}

struct ScaffoldError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// The generated files and edits.
struct Scaffold {
    let name: String
    let kind: String

    static let targetsMarker = "// new-adapter: targets"
    static let dependenciesMarker = "/* new-adapter: vice dependencies */"
    static let importsMarker = "// new-adapter: imports"
    static let registrationsMarker = "// new-adapter: registrations"

    func registering(in package: String) throws -> String {
        guard package.contains(Self.targetsMarker), package.contains(Self.dependenciesMarker) else {
            throw ScaffoldError("Package.swift lacks the markers '\(Self.targetsMarker)' and '\(Self.dependenciesMarker)'")
        }
        let targets = """
                    // \(name) adapter (scaffolded by `swift package new-adapter`).
                    .target(
                        name: "Vice\(name)",
                        dependencies: ["ViceCore"],
                        swiftSettings: swiftSettings
                    ),
                    .testTarget(
                        name: "Vice\(name)Tests",
                        dependencies: ["Vice\(name)", "ViceCore", "ViceAdapterTesting"],
                        swiftSettings: swiftSettings
                    ),

            """
        return package
            .replacingOccurrences(of: "        " + Self.targetsMarker, with: targets + "        " + Self.targetsMarker)
            .replacingOccurrences(of: Self.dependenciesMarker, with: "\"Vice\(name)\", " + Self.dependenciesMarker)
    }

    func registeringAdapter(in assembly: String) throws -> String {
        guard assembly.contains(Self.importsMarker), assembly.contains(Self.registrationsMarker) else {
            throw ScaffoldError("RegistryAssembly.swift lacks the markers '\(Self.importsMarker)' and '\(Self.registrationsMarker)'")
        }
        return assembly
            .replacingOccurrences(of: Self.importsMarker, with: "import Vice\(name)\n" + Self.importsMarker)
            .replacingOccurrences(of: "        " + Self.registrationsMarker,
                                  with: "        catalog.register(\(name)Adapter.self)\n        " + Self.registrationsMarker)
    }

    var adapter: String {
        """
        import Foundation
        public import ViceCore

        /// \(name) environments (`managementlayer.software: \(kind)`).
        ///
        /// Scaffolded by `swift package new-adapter`: a working adapter that keeps images as files in
        /// the folder `credentials.location` (`NAME` holds the bytes, `NAME.json` the content type and
        /// title; a `.password` file there makes `credentials.password` required). Replace the folder
        /// calls with your backend's and keep the error codes: the conformance test checks them.
        public struct \(name)Adapter: RuntimeAdapter {
            public static let descriptor = AdapterDescriptor(
                kind: "\(kind)", version: "0.1.0", summary: "\(name) (scaffold: images as files in a folder)",
                capabilities: AdapterCapabilities(imports: Set(ContentType.allCases), deploys: Set(ContentType.allCases)),
                maintainers: ["the \(name) adapter's authors"])

            let folder: URL
            let password: String

            public init(environment: Environment, context: AdapterContext) throws {
                guard let location = environment.credentials?.location, location.hasPrefix("/") else {
                    throw AdapterError(.invalidConfiguration, "credentials.location must be an absolute folder")
                }
                folder = URL(fileURLWithPath: location, isDirectory: true)
                password = environment.credentials?.password ?? ""
            }

            public func health() async -> AdapterHealth {
                do {
                    try await checkAccess()
                    return AdapterHealth(status: .healthy, message: "folder \\(folder.path)")
                } catch let error as AdapterError {
                    return .unhealthy(error.message)
                } catch {
                    return .unhealthy("\\(error)")
                }
            }

            public func listImages() async throws -> [RemoteImage] {
                try await checkAccess()
                let folder = self.folder
                return try await BlockingIO.run {
                    try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".json") }.sorted()
                        .compactMap { name -> RemoteImage? in
                            let reference = String(name.dropLast(".json".count))
                            guard let metadata = try? Metadata.read(folder.appendingPathComponent(name)),
                                  let attributes = try? FileManager.default.attributesOfItem(
                                      atPath: folder.appendingPathComponent(reference).path) else { return nil }
                            return RemoteImage(reference: reference, title: metadata.title, contenttype: metadata.contenttype,
                                               size: (attributes[.size] as? NSNumber)?.int64Value)
                        }
                }
            }

            public func importImage(reference: String) async throws -> ImageSource {
                try await checkAccess()
                let file = try path(of: reference)
                let (metadata, reader) = try await BlockingIO.run { () throws -> (Metadata, ChunkReader) in
                    guard let metadata = try? Metadata.read(file.appendingPathExtension("json")),
                          let handle = FileHandle(forReadingAtPath: file.path) else {
                        throw AdapterError(.notFound, "no image '\\(reference)' in the folder")
                    }
                    return (metadata, ChunkReader(handle))
                }
                let size = try await BlockingIO.run { try reader.size() }
                return ImageSource(contenttype: metadata.contenttype, title: metadata.title, expectedSize: size,
                                   content: ByteStream { try await BlockingIO.run { try reader.next() } })
            }

            public func deploy(_ image: ImageDescription, content: ByteStream) async throws -> DeploymentReference {
                try await checkAccess()
                let reference = "\\(Self.slug(image.title))-\\(image.deploymentID)"
                let file = try path(of: reference)
                let partial = folder.appendingPathComponent(".\\(reference).\\(UUID().uuidString).part")
                guard FileManager.default.createFile(atPath: partial.path, contents: nil),
                      let handle = FileHandle(forWritingAtPath: partial.path) else {
                    throw AdapterError(.remoteError, "cannot write into \\(folder.path)")
                }
                let writer = ChunkReader(handle)
                do {
                    for try await chunk in content {
                        try await BlockingIO.run { try writer.write(chunk) }
                    }
                    try await BlockingIO.run { try writer.finish() }
                    try Metadata(contenttype: image.contenttype, title: image.title).write(file.appendingPathExtension("json"))
                    try FileManager.default.moveItem(at: partial, to: file)
                } catch {
                    try? FileManager.default.removeItem(at: partial)
                    throw error
                }
                return DeploymentReference(reference: reference)
            }

            public func remove(reference: String) async throws {
                try await checkAccess()
                let file = try path(of: reference)
                for item in [file, file.appendingPathExtension("json")] where FileManager.default.fileExists(atPath: item.path) {
                    try FileManager.default.removeItem(at: item)
                }
            }

            // MARK: the folder

            /// The folder exists and, when it holds a `.password` file, the password matches.
            func checkAccess() async throws {
                let folder = self.folder, password = self.password
                try await BlockingIO.run {
                    var isDirectory: ObjCBool = false
                    guard FileManager.default.fileExists(atPath: folder.path, isDirectory: &isDirectory), isDirectory.boolValue else {
                        throw AdapterError(.unavailable, "the folder \\(folder.path) does not exist")
                    }
                    let required = folder.appendingPathComponent(".password")
                    if let expected = try? String(contentsOf: required, encoding: .utf8),
                       expected.trimmingCharacters(in: .whitespacesAndNewlines) != password {
                        throw AdapterError(.authenticationFailed, "wrong password for \\(folder.path)")
                    }
                }
            }

            /// References are plain file names: nothing can point outside the folder.
            func path(of reference: String) throws -> URL {
                guard !reference.isEmpty, reference.count <= 128, !reference.hasPrefix("."), !reference.hasSuffix(".json"),
                      reference.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "._-".contains($0)) }) else {
                    throw AdapterError(.notFound, "'\\(reference)' is not an image of this folder")
                }
                return folder.appendingPathComponent(reference)
            }

            static func slug(_ title: String) -> String {
                let words = title.lowercased().split { !($0.isASCII && ($0.isLetter || $0.isNumber)) }
                return words.isEmpty ? "image" : String(words.joined(separator: "-").prefix(48))
            }
        }

        /// `NAME.json`: what the folder knows about an image.
        struct Metadata: Codable {
            var contenttype: ContentType
            var title: String?

            static func read(_ url: URL) throws -> Metadata {
                try JSONDecoder().decode(Metadata.self, from: Data(contentsOf: url))
            }

            func write(_ url: URL) throws {
                try JSONEncoder().encode(self).write(to: url, options: .atomic)
            }
        }

        /// A file read or written in 1 MiB chunks, one call at a time, on `BlockingIO`'s threads.
        final class ChunkReader: @unchecked Sendable {
            private let handle: FileHandle

            init(_ handle: FileHandle) {
                self.handle = handle
            }

            func size() throws -> Int64 {
                let end = try handle.seekToEnd()
                try handle.seek(toOffset: 0)
                return Int64(end)
            }

            func next() throws -> [UInt8]? {
                guard let data = try handle.read(upToCount: 1 << 20), !data.isEmpty else {
                    try handle.close()
                    return nil
                }
                return [UInt8](data)
            }

            func write(_ chunk: [UInt8]) throws {
                try handle.write(contentsOf: chunk)
            }

            func finish() throws {
                try handle.synchronize()
                try handle.close()
            }
        }

        """
    }

    var test: String {
        """
        import Foundation
        import Testing
        import ViceAdapterTesting
        import ViceCore
        import Vice\(name)

        /// The \(name) adapter keeps the adapter contract (ViceAdapterTesting's conformance suite).
        @Suite struct \(name)ConformanceTests {
            @Test func the\(name)AdapterConforms() async throws {
                let folder = FileManager.default.temporaryDirectory.appendingPathComponent("vice-\(kind)-\\(UUID().uuidString)")
                try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
                defer { try? FileManager.default.removeItem(at: folder) }
                // The environment holds one sample image, and a password.
                try Data((0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }).write(to: folder.appendingPathComponent("sample"))
                try #"{"contenttype": "disk-raw", "title": "Sample"}"#.write(
                    to: folder.appendingPathComponent("sample.json"), atomically: true, encoding: .utf8)
                try "s3cret".write(to: folder.appendingPathComponent(".password"), atomically: true, encoding: .utf8)
                func environment(password: String) -> Environment {
                    Environment(credentials: Credentials(location: folder.path, password: password),
                                managementlayer: ManagementLayer(type: .basic, software: "\(kind)"))
                }
                let failures = await AdapterConformance(.init(
                    \(name)Adapter.self, environment: environment(password: "s3cret"),
                    wrongCredentials: environment(password: "wrong"), importable: "sample")).run()
                #expect(failures.isEmpty, "\\(failures)")
            }
        }

        """
    }
}
