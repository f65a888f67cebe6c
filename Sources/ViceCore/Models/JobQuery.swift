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

/// How many jobs of a queue and kind are in a state: the metrics' job gauges.
package struct JobCount: Sendable, Hashable {
    package var queue: JobQueueName
    package var kind: JobKind
    package var state: JobState
    package var count: Int

    package init(queue: JobQueueName, kind: JobKind, state: JobState, count: Int) {
        self.queue = queue
        self.kind = kind
        self.state = state
        self.count = count
    }
}
