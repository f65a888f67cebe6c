import Foundation

extension Registry {
    /// `GET /v1/adapters`: every adapter this registry has, with its capabilities.
    package func adapters() -> [AdapterDescriptor] {
        catalog.descriptors
    }

    /// `GET /v1/environment/{id}/health`: whether the environment's adapter reaches it. A value,
    /// never an error: an environment without an adapter is unhealthy and says why.
    package func environmentHealth(id: String, owner: UserRecord) async throws -> AdapterHealth {
        let environment = try await usableEnvironment(id: id, owner: owner)
        do {
            return await (try await adapter(for: environment, ownerID: owner.id)).health()
        } catch {
            return .unhealthy(JobLifecycle.describe(error))
        }
    }

    /// `GET /v1/environment/{id}/images`: what could be imported from the environment.
    package func environmentImages(id: String, owner: UserRecord) async throws -> [RemoteImage] {
        let environment = try await usableEnvironment(id: id, owner: owner)
        let adapter = try await adapter(for: environment, ownerID: owner.id)
        do {
            return try await adapter.listImages()
        } catch let error as AdapterError {
            throw ViceError(.badGateway, "the environment could not list its images: \(error.message)", cause: error)
        }
    }
}
