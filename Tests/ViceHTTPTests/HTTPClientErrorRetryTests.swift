import Testing
import ViceCore
import ViceHTTP

/// The HTTP client's failures say for themselves whether the job queue retries them.
@Suite struct HTTPClientErrorRetryTests {
    @Test(arguments: [
        (HTTPClientError.Kind.dns, true), (.connect, true), (.timeout, true), (.send, true), (.receive, true),
        (.tls, false), (.cancelled, false), (.invalidRequest, false), (.refused, false), (.body, false),
    ])
    func eachKindIsRetriedOrNot(_ kind: HTTPClientError.Kind, _ transient: Bool) {
        #expect(RetryPolicy.isTransient(HTTPClientError(kind, "what happened")) == transient)
        #expect(RetryPolicy.isKnown(HTTPClientError(kind, "what happened")))
    }
}
