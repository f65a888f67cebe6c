/// Which jobs `GET /v1/jobs` lists: the filters combine, newest first, paged by job id.
public struct JobQuery: Sendable, Hashable {
    /// nil: every user's (admins).
    package var ownerID: String?
    package var states: Set<JobState>
    package var kind: JobKind?
    package var subjectID: String?
    public var page: PageRequest

    package init(ownerID: String? = nil, states: Set<JobState> = [], kind: JobKind? = nil, subjectID: String? = nil,
                 page: PageRequest = PageRequest()) {
        self.ownerID = ownerID
        self.states = states
        self.kind = kind
        self.subjectID = subjectID
        self.page = page
    }
}
