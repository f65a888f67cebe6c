import Hummingbird
import ViceCore

extension ViceAPI {
    func createImage(_ request: Request, _ context: ViceRequestContext) async throws -> Response {
        let input = try await JSONBody.decode(Image.self, from: request)
        let created = try await registry.createImage(input, owner: try context.requirePrincipal())
        return try JSONBody.response(created, status: .created)
    }

    func findImages(_ request: Request, _ context: ViceRequestContext) async throws -> Response {
        let query = Query(request: request)
        let imageQuery = ImageQuery(
            page: try query.page(), text: query.string("q"),
            contenttype: try query.enumValue("contenttype", ContentType.self),
            imagetype: try query.enumValue("imagetype", ImageType.self),
            status: try query.enumValue("status", ImageStatus.self),
            visibility: try query.enumValue("visibility", ImageVisibility.self))
        let page = try await registry.images(owner: try context.requirePrincipal(), query: imageQuery, ownerName: query.string("owner"))
        return try JSONBody.response(page.items, headers: page.headers(for: request))
    }

    func updateImage(_ request: Request, _ context: ViceRequestContext) async throws -> Response {
        let input = try await JSONBody.decode(Image.self, from: request)
        let updated = try await registry.updateImage(input, owner: try context.requirePrincipal())
        return try JSONBody.response(updated, status: .created)
    }

    func getImage(_ request: Request, _ context: ViceRequestContext) async throws -> Response {
        let id = try Self.pathID("imageId", context, kind: "image")
        return try JSONBody.response(try await registry.image(id: id, owner: try context.requirePrincipal()))
    }

    func deleteImage(_ request: Request, _ context: ViceRequestContext) async throws -> Response {
        let id = try Self.pathID("imageId", context, kind: "image")
        try await registry.deleteImage(id: id, owner: try context.requirePrincipal())
        return try JSONBody.response(["message": "image \(id) deleted"])
    }

}
