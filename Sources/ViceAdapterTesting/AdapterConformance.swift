import Crypto
import Foundation
import Logging
public import ViceCore

/// The contract every adapter keeps, as a check any adapter's tests can run against a real (or
/// faithfully emulated) environment: descriptor, health, list, import, deploy, remove, and the
/// errors callers rely on. `run` returns the broken promises (empty when the adapter conforms).
///
/// ```swift
/// let failures = await AdapterConformance(subject).run()
/// #expect(failures.isEmpty, "\(failures)")
/// ```
public struct AdapterConformance: Sendable {
    /// What the suite needs to know about the adapter and its test environment.
    public struct Subject: Sendable {
        public var descriptor: AdapterDescriptor
        /// Makes an adapter instance for an environment, as the catalog does.
        public var make: @Sendable (Environment) throws -> any RuntimeAdapter
        /// A working environment.
        public var environment: Environment
        /// The same environment with a wrong password, if the backend checks credentials.
        public var wrongCredentials: Environment?
        /// The reference of an image the environment holds (the import sample).
        public var importable: String
        /// Whether importing a deployed image gives back the very bytes deployed (false for
        /// backends that re-pack content, like Docker's `save`).
        public var roundTripIsByteExact: Bool

        public init(descriptor: AdapterDescriptor, make: @escaping @Sendable (Environment) throws -> any RuntimeAdapter,
                    environment: Environment, wrongCredentials: Environment? = nil, importable: String,
                    roundTripIsByteExact: Bool = true) {
            self.descriptor = descriptor
            self.make = make
            self.environment = environment
            self.wrongCredentials = wrongCredentials
            self.importable = importable
            self.roundTripIsByteExact = roundTripIsByteExact
        }

        /// A compiled-in adapter type.
        public init(_ type: any RuntimeAdapter.Type, environment: Environment, wrongCredentials: Environment? = nil,
                    importable: String, roundTripIsByteExact: Bool = true) {
            self.init(descriptor: type.descriptor,
                      make: { try type.init(environment: $0, context: AdapterContext(logger: Logger(label: "conformance"))) },
                      environment: environment, wrongCredentials: wrongCredentials, importable: importable,
                      roundTripIsByteExact: roundTripIsByteExact)
        }
    }

    public let subject: Subject

    public init(_ subject: Subject) {
        self.subject = subject
    }

    /// Runs every check; returns one line per failed one.
    public func run() async -> [String] {
        var failures: [String] = []
        func check(_ condition: Bool, _ message: @autoclosure () -> String) {
            if !condition { failures.append(message()) }
        }
        let descriptor = subject.descriptor
        check(!descriptor.kind.isEmpty && descriptor.kind == descriptor.kind.lowercased(), "descriptor: kind '\(descriptor.kind)' is not lower case")
        check(!descriptor.version.isEmpty, "descriptor: no version")
        check(!descriptor.capabilities.imports.isEmpty || !descriptor.capabilities.deploys.isEmpty, "descriptor: no capabilities")

        let adapter: any RuntimeAdapter
        do {
            adapter = try subject.make(subject.environment)
        } catch {
            return failures + ["make: the working environment was refused: \(error)"]
        }

        // health: a value, healthy for the working environment, unhealthy (not thrown) for wrong credentials.
        let health = await adapter.health()
        check(health.status == .healthy, "health: the working environment is \(health.status): \(health.message ?? "")")
        if let wrong = subject.wrongCredentials {
            do {
                let refused = try subject.make(wrong)
                let state = await refused.health()
                check(state.status == .unhealthy && !(state.message ?? "").isEmpty, "health: wrong credentials are reported \(state.status) without a reason")
                do {
                    _ = try await refused.importImage(reference: subject.importable)
                    failures.append("import: wrong credentials were accepted")
                } catch let error as AdapterError {
                    check(error.code == .authenticationFailed, "import: wrong credentials gave \(error.code), not authenticationFailed: \(error.message)")
                    check(!error.isTransient, "import: wrong credentials are reported as transient (they would be retried)")
                } catch {
                    failures.append("import: wrong credentials threw \(type(of: error)), not AdapterError: \(error)")
                }
            } catch {
                failures.append("make: an environment with wrong credentials was refused before any call: \(error)")
            }
        }

        // list: unique, non-empty references, including the sample.
        do {
            let images = try await adapter.listImages()
            let references = images.map(\.reference)
            check(!references.contains(""), "list: an empty reference")
            check(Set(references).count == references.count, "list: duplicate references")
            check(references.contains(subject.importable), "list: the sample '\(subject.importable)' is not listed")
        } catch {
            failures.append("list: threw \(error)")
        }

        // import: the sample, with a type the descriptor declares and the size announced.
        var sample: (ContentType, [UInt8])?
        do {
            let source = try await adapter.importImage(reference: subject.importable)
            let bytes = try await source.content.collect(upTo: 512 << 20)
            check(descriptor.capabilities.canImport(source.contenttype), "import: \(source.contenttype.rawValue) is not among the declared imports")
            check(!bytes.isEmpty, "import: no bytes")
            if let expected = source.expectedSize { check(expected == Int64(bytes.count), "import: announced \(expected) bytes, sent \(bytes.count)") }
            sample = (source.contenttype, bytes)
        } catch {
            failures.append("import: the sample threw \(error)")
        }
        do {
            _ = try await adapter.importImage(reference: "vice-conformance-no-such-image-\(UUID().uuidString.prefix(8).lowercased())")
            failures.append("import: an unknown reference did not fail")
        } catch let error as AdapterError {
            check(error.code == .notFound, "import: an unknown reference gave \(error.code), not notFound: \(error.message)")
            check(!error.isTransient, "import: an unknown reference is reported as transient")
        } catch {
            failures.append("import: an unknown reference threw \(type(of: error)), not AdapterError")
        }

        // deploy the sample back, import it again, remove it (twice: removal is idempotent).
        guard let (contenttype, bytes) = sample, descriptor.capabilities.canDeploy(contenttype) else { return failures }
        let description = ImageDescription(
            imageID: "conformance", title: "Conformance \(descriptor.kind)", contenttype: contenttype, imagetype: nil,
            size: Int64(bytes.count), checksum: "sha256:" + SHA256.hash(data: bytes).hexString,
            specifics: nil, deploymentID: "conformance-\(UUID().uuidString.prefix(8).lowercased())", deploymentTitle: nil)
        let reference: String
        do {
            reference = try await adapter.deploy(description, content: ByteStream(bytes: bytes)).reference
            check(!reference.isEmpty, "deploy: an empty reference")
        } catch {
            return failures + ["deploy: the sample threw \(error)"]
        }
        if descriptor.capabilities.canImport(contenttype) {
            do {
                let back = try await adapter.importImage(reference: reference).content.collect(upTo: 512 << 20)
                if subject.roundTripIsByteExact { check(back == bytes, "round trip: the deployed image comes back with other bytes") }
                check(!back.isEmpty, "round trip: the deployed image comes back empty")
            } catch {
                failures.append("round trip: importing the deployed '\(reference)' threw \(error)")
            }
        }
        do {
            try await adapter.remove(reference: reference)
            try await adapter.remove(reference: reference)
        } catch {
            failures.append("remove: \(error) (removing twice must succeed)")
        }
        if descriptor.capabilities.canImport(contenttype) {
            do {
                _ = try await adapter.importImage(reference: reference)
                failures.append("remove: '\(reference)' can still be imported after removal")
            } catch let error as AdapterError {
                check(error.code == .notFound, "remove: importing the removed image gave \(error.code), not notFound")
            } catch {
                failures.append("remove: importing the removed image threw \(type(of: error))")
            }
        }
        // A content type the adapter does not deploy is refused by the adapter too.
        if let foreign = ContentType.allCases.first(where: { !descriptor.capabilities.canDeploy($0) }) {
            var refused = description
            refused.contenttype = foreign
            do {
                let reference = try await adapter.deploy(refused, content: ByteStream(bytes: bytes)).reference
                failures.append("deploy: \(foreign.rawValue) was accepted though not declared")
                try? await adapter.remove(reference: reference)
            } catch let error as AdapterError {
                check(error.code == .unsupported, "deploy: an undeclared \(foreign.rawValue) gave \(error.code), not unsupported")
            } catch {
                failures.append("deploy: an undeclared type threw \(type(of: error))")
            }
        }
        return failures
    }
}
