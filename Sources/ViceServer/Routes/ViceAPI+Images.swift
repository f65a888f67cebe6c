import Hummingbird
import ViceCore

extension ViceAPI {
    var createImage: Handler {
        decoding(Image.self, status: .created) { try await registry.createImage($0, owner: $1) }
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

    var updateImage: Handler {
        decoding(Image.self, status: .created) { try await registry.updateImage($0, owner: $1) }
    }

    var getImage: Handler {
        identified(by: "imageId", kind: "image") { try await registry.image(id: $0, owner: $1) }
    }

    var importImage: Handler {
        identified(by: "imageId", kind: "image") { try await registry.requestImport(id: $0, owner: $1) }
    }

    var deleteImage: Handler {
        removing(by: "imageId", kind: "image") { try await registry.deleteImage(id: $0, owner: $1) }
    }

}
