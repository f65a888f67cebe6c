import Foundation

extension Registry {
    /// `POST /images`. With an `originEnvironment` (one of the caller's environments by id, or an
    /// inline environment as the original web UI sent it) and an `environmentReference`, the image
    /// starts `queued` and an import job fetches it; without, it waits for an upload.
    package func createImage(_ input: Image, owner: UserRecord) async throws -> Image {
        try Validate.title(input.title)
        let origin = try await resolveOrigin(input.originEnvironment, owner: owner)
        let reference = input.environmentReference?.trimmingCharacters(in: .whitespaces).nilIfEmpty
        if let origin {
            guard reference != nil else {
                throw ViceError.invalidInput("environmentReference (the image's id in the origin environment) is required to import")
            }
            try checkImportable(input.contenttype, from: origin.environment)
        }
        let sealedOrigin = try origin.map { try sealForImage($0) }
        let now = Date()
        try Self.validate(members: input.members)
        let stored = try await withFreshID { id -> StoredImage in
            let image = Image(
                id: id, title: input.title, userid: owner.id, imagetype: input.imagetype, contenttype: input.contenttype,
                imported: false, environmentReference: reference, specifics: input.specifics, status: ImageLifecycle.initialStatus,
                createdAt: now, updatedAt: now, visibility: input.visibility ?? .private, members: input.members ?? [])
            let created = StoredImage(image: image, originEnvironmentID: origin?.id, sealedOrigin: sealedOrigin)
            return try await self.store.write { tx in
                // Queued before it is written, so the image appears once, already naming its job.
                let image = origin != nil ? try self.queueImport(of: created, in: tx) : created
                try tx.insertImage(image)
                return image
            }
        }
        if origin != nil { notify(.import) }
        return try render(stored)
    }

    /// `PUT /images`: fields present in the body replace the stored ones. The image is imported
    /// again only when its origin or its reference changes (once: a queued import is not
    /// doubled) — a body that is what `GET` answered, edited, moves no bytes. `POST
    /// /v1/image/{id}/import` asks for an import explicitly.
    package func updateImage(_ input: Image, owner: UserRecord) async throws -> Image {
        let id = try Validate.id(input.id, field: "id")
        try Validate.title(input.title)
        try Self.validate(members: input.members)
        let current = try await store.read { try $0.image(id: id) }
        guard let current, owner.mayManage(current.userid) else { throw ViceError.notFound("image \(id) not found") }
        // The origin as GET showed it is no change: it is neither resolved nor sealed again.
        let givenOrigin = try isSameOrigin(input.originEnvironment, as: current) ? nil : input.originEnvironment
        let origin = try await resolveOrigin(givenOrigin, owner: owner)
        let sealedOrigin = try origin.map { try sealForImage($0) }
        let newReference = input.environmentReference?.trimmingCharacters(in: .whitespaces).nilIfEmpty
        let referenceChanged = newReference != nil && newReference != current.image.environmentReference
        let effectiveOrigin: Environment?
        // The job checks again whether the owner may still use the origin; an origin that is gone
        // does not stop edits to the record.
        if let origin { effectiveOrigin = origin.environment } else { effectiveOrigin = try? await originEnvironment(of: current) }
        if let effectiveOrigin {
            try checkImportable(input.contenttype ?? current.image.contenttype, from: effectiveOrigin)
        }
        // Re-labelling stored bytes: they must be what the new type says (and safe, for disks).
        if let relabel = input.contenttype, relabel != current.image.contenttype, let digest = current.image.checksum {
            try await inspectStored(digest, as: relabel)
        }
        let (stored, reimport) = try await store.write { tx -> (StoredImage, Bool) in
            guard var stored = try tx.image(id: id), owner.mayManage(stored.userid) else {
                throw ViceError.notFound("image \(id) not found")
            }
            if let title = input.title { stored.image.title = title }
            if let imagetype = input.imagetype { stored.image.imagetype = imagetype }
            if let contenttype = input.contenttype { stored.image.contenttype = contenttype }
            if let specifics = input.specifics { stored.image.specifics = specifics }
            if let visibility = input.visibility { stored.image.visibility = visibility }
            if let members = input.members { stored.image.members = members }
            if let reference = input.environmentReference?.trimmingCharacters(in: .whitespaces).nilIfEmpty {
                stored.image.environmentReference = reference
            }
            if let origin {
                stored.originEnvironmentID = origin.id
                stored.sealedOrigin = sealedOrigin
            }
            let hasOrigin = stored.sealedOrigin != nil || stored.originEnvironmentID != nil
            let reimport = hasOrigin && (origin != nil || referenceChanged)
            if reimport { stored = try self.queueImport(of: stored, in: tx) }
            stored.image.updatedAt = Date()
            try tx.updateImage(stored)
            return (stored, reimport)
        }
        if reimport { notify(.import) }
        return try render(stored)
    }

    /// Whether `given` names the origin `stored` has: the same environment id, or, for an inline
    /// origin, exactly what `GET` shows of it (credentials redacted).
    func isSameOrigin(_ given: Environment?, as stored: StoredImage) throws -> Bool {
        guard let given else { return false }
        if let id = given.id?.trimmingCharacters(in: .whitespaces).nilIfEmpty { return id == stored.originEnvironmentID }
        guard stored.originEnvironmentID == nil, stored.sealedOrigin != nil else { return false }
        return try render(stored).originEnvironment == given
    }

    /// `POST /v1/image/{id}/import`: imports the image again from its origin (once: a queued
    /// import is not doubled); 405 for an image without one.
    package func requestImport(id: String, owner: UserRecord) async throws -> Image {
        let stored = try await store.write { tx -> StoredImage in
            guard let stored = try tx.image(id: id), owner.mayManage(stored.userid) else {
                throw ViceError.notFound("image \(id) not found")
            }
            guard stored.sealedOrigin != nil || stored.originEnvironmentID != nil else {
                throw ViceError.invalidInput("image \(id) has no origin environment to import from; upload its bytes instead")
            }
            let queued = try self.queueImport(of: stored, in: tx)
            try tx.updateImage(queued)
            return queued
        }
        notify(.import)
        return try render(stored)
    }

    package func image(id: String, owner: UserRecord) async throws -> Image {
        try render(try await visibleImage(id: id, to: owner), for: owner)
    }

    /// `GET /v1/images`: what the caller may see — their own, public ones and those shared with
    /// them (every image, for an admin) — filtered further by `ownerName` and `query.visibility`.
    package func images(owner: UserRecord, query: ImageQuery, ownerName: String? = nil) async throws -> Page<Image> {
        try Validate.pageLimit(query.page)
        var query = query
        query.text = query.text?.trimmingCharacters(in: .whitespaces).nilIfEmpty
        query.viewer = owner.isAdmin ? nil : owner
        if let ownerName {
            guard let named = try await store.read({ try $0.user(username: ownerName) }) else { return Page(items: [], nextMarker: nil) }
            query.ownerID = named.id
        }
        let rows = try await store.read { [query] in try $0.images(owner: nil, query: query) }
        let page = rows.paged(query.page, id: \.id)
        return Page(items: try page.items.map { try render($0, for: owner) }, nextMarker: page.nextMarker)
    }

    /// An image `user` may see (read, download, deploy); 404 otherwise.
    func visibleImage(id: String, to user: UserRecord) async throws -> StoredImage {
        guard let stored = try await store.read({ try $0.image(id: id) }), stored.image.isVisible(to: user) else {
            throw ViceError.notFound("image \(id) not found")
        }
        return stored
    }

    /// The view of someone else's shared image: without its origin (another user's environment)
    /// and its member list.
    func render(_ stored: StoredImage, for viewer: UserRecord) throws -> Image {
        guard !viewer.mayManage(stored.userid) else { return try render(stored) }
        var image = stored.image
        image.members = nil
        return image
    }

    static func validate(members: [String]?) throws {
        guard let members else { return }
        guard members.count <= 1000 else { throw ViceError.invalidInput("members lists at most 1000 user names") }
        for name in members { try validate(username: name) }
    }

    func ownedImage(id: String, owner: UserRecord) async throws -> StoredImage {
        guard let stored = try await store.read({ try $0.image(id: id) }), owner.mayManage(stored.userid) else {
            throw ViceError.notFound("image \(id) not found")
        }
        return stored
    }

    /// The API view: the origin as it was given, without its password.
    func render(_ stored: StoredImage) throws -> Image {
        var image = stored.image
        if let sealed = stored.sealedOrigin {
            var origin = try cipher.open(json: Environment.self, from: sealed).redacted
            origin.id = stored.originEnvironmentID
            image.originEnvironment = origin
        }
        return image
    }

}
