import Foundation

extension Registry {
    /// `POST /images`. With an `originEnvironment` (one of the caller's environments by id, or an
    /// inline environment as the original web UI sent it) and an `environmentReference`, the image
    /// starts `queued` and an import job fetches it; without, it waits for an upload.
    public func createImage(_ input: Image, owner: UserRecord) async throws -> Image {
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
        let maxAttempts = options.maxJobAttempts
        try Self.validate(members: input.members)
        let stored = try await withFreshID { id -> StoredImage in
            let image = Image(
                id: id, title: input.title, userid: owner.id, imagetype: input.imagetype, contenttype: input.contenttype,
                imported: false, environmentReference: reference, specifics: input.specifics, status: .queued,
                createdAt: now, updatedAt: now, visibility: input.visibility ?? .private, members: input.members ?? [])
            let stored = StoredImage(image: image, originEnvironmentID: origin?.id, sealedOrigin: sealedOrigin)
            try await self.store.write { tx in
                try tx.insertImage(stored)
                if origin != nil {
                    try tx.insertJob(Job(kind: .importImage, subjectID: id, maxAttempts: maxAttempts))
                }
            }
            return stored
        }
        if origin != nil { notify(.import) }
        return try render(stored)
    }

    /// `PUT /images`: fields present in the body replace the stored ones. An image with an origin
    /// is imported again (once: a queued import is not doubled).
    public func updateImage(_ input: Image, owner: UserRecord) async throws -> Image {
        let id = try Validate.id(input.id, field: "id")
        try Validate.title(input.title)
        try Self.validate(members: input.members)
        let origin = try await resolveOrigin(input.originEnvironment, owner: owner)
        let sealedOrigin = try origin.map { try sealForImage($0) }
        let maxAttempts = options.maxJobAttempts
        let current = try await store.read { try $0.image(id: id) }
        guard let current, owner.mayManage(current.userid) else { throw ViceError.notFound("image \(id) not found") }
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
            let reimport = stored.sealedOrigin != nil || stored.originEnvironmentID != nil
            if reimport {
                guard stored.image.environmentReference != nil else {
                    throw ViceError.invalidInput("environmentReference is required to import")
                }
                let pending = try tx.jobs(subjectID: id).contains { $0.kind == .importImage && $0.state == .pending }
                if !pending {
                    try tx.insertJob(Job(kind: .importImage, subjectID: id, maxAttempts: maxAttempts))
                }
                if stored.image.status != .active { stored.image.status = .queued }
                stored.image.statusMessage = stored.image.status == .active ? "re-import queued" : nil
            }
            stored.image.updatedAt = Date()
            try tx.updateImage(stored)
            return (stored, reimport)
        }
        if reimport { notify(.import) }
        return try render(stored)
    }

    public func image(id: String, owner: UserRecord) async throws -> Image {
        try render(try await visibleImage(id: id, to: owner), for: owner)
    }

    /// `GET /v1/images`: what the caller may see — their own, public ones and those shared with
    /// them (every image, for an admin) — filtered further by `ownerName` and `query.visibility`.
    public func images(owner: UserRecord, query: ImageQuery, ownerName: String? = nil) async throws -> Page<Image> {
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

    /// `DELETE /image/{id}`: removes the record and its queued jobs, and frees the bytes when no
    /// other image holds the same content.
    public func deleteImage(id: String, owner: UserRecord) async throws {
        let checksum = try await store.write { tx -> String? in
            guard let stored = try tx.image(id: id), owner.mayManage(stored.userid) else {
                throw ViceError.notFound("image \(id) not found")
            }
            for job in try tx.jobs(subjectID: id) where job.state == .pending {
                try tx.deleteJob(id: job.id)
            }
            try tx.deleteImage(id: id)
            return stored.image.checksum
        }
        if let checksum { try await releaseBlobIfUnused(checksum) }
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

    /// The origin to import from, with credentials: the referenced environment as it is now, if
    /// the image's owner may still use it, or the sealed copy of an inline origin.
    func originEnvironment(of stored: StoredImage) async throws -> Environment? {
        if let id = stored.originEnvironmentID {
            guard let environment = try await environmentForJob(id: id, ownerID: stored.userid) else {
                throw ViceError.invalidInput("the origin environment \(id) was deleted; give the image an originEnvironment to import it again")
            }
            return environment
        }
        return try stored.sealedOrigin.map { try cipher.open(json: Environment.self, from: $0) }
    }

    /// What an image keeps of its origin: an inline origin whole (it exists nowhere else), sealed;
    /// of an origin given by id only what describes it — no password, no specifics — so that no
    /// copy of an environment's secrets, least of all a configured one's, lands in image rows.
    func sealForImage(_ origin: ResolvedOrigin) throws -> Data {
        guard origin.id != nil else { return try cipher.seal(json: origin.environment) }
        var described = origin.environment
        described.credentials = described.credentials.map { Credentials(location: $0.location, username: $0.username) }
        return try cipher.seal(json: described)
    }

    struct ResolvedOrigin: Sendable {
        var id: String?
        var environment: Environment
    }

    func resolveOrigin(_ given: Environment?, owner: UserRecord) async throws -> ResolvedOrigin? {
        guard let given else { return nil }
        if let id = given.id?.trimmingCharacters(in: .whitespaces).nilIfEmpty,
           let configured = configuredEnvironment(id: id, visibleTo: owner) {
            return ResolvedOrigin(id: id, environment: configured.environment)
        }
        if let id = given.id?.trimmingCharacters(in: .whitespaces).nilIfEmpty,
           let stored = try await store.read({ try $0.environment(id: id) }), stored.environment.isUsable(by: owner) {
            return ResolvedOrigin(id: id, environment: try unsealed(stored))
        }
        guard given.managementlayer != nil else {
            throw ViceError.invalidInput("originEnvironment '\(given.id ?? "")' is not one of your environments")
        }
        // An inline environment: a copy is kept with the image, owned by the caller.
        try validate(environment: given)
        var inline = given
        inline.id = nil
        inline.userid = owner.id
        inline.readOnly = nil
        try options.environmentPolicy.authorize(inline, trusted: owner.isAdmin)
        try checkSettings(of: inline, owner: owner)
        return ResolvedOrigin(id: nil, environment: inline)
    }

    /// Refuses an import the origin's adapter cannot do. An origin with no registered adapter is
    /// accepted (adapters can be added later); its job fails with a clear message.
    func checkImportable(_ contenttype: ContentType?, from origin: Environment) throws {
        guard let kind = origin.adapterKind, let descriptor = catalog.descriptor(forKind: kind), let contenttype else { return }
        guard descriptor.capabilities.canImport(contenttype) else {
            let supported = descriptor.capabilities.imports.map(\.rawValue).sorted().joined(separator: ", ")
            throw ViceError.invalidInput(
                "the \(kind) adapter cannot import \(contenttype.rawValue) images (it imports: \(supported))")
        }
    }

    func releaseBlobIfUnused(_ checksum: String) async throws {
        let users = try await store.read { try $0.imageCount(checksum: checksum) }
        if users == 0 {
            try await blobs.delete(checksum)
        }
    }
}
