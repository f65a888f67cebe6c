import Foundation
import HTTPTypes
import Hummingbird
import Testing
import ViceCore
@testable import ViceServer

/// Errors render themselves: every kind the registry, adapters and policies throw has its status;
/// anything else is a 500 that names only the request.
@Suite struct ErrorRenderingTests {
    @Test(arguments: [
        (ViceError.Code.invalidInput, 405), (.badRequest, 400), (.payloadTooLarge, 413), (.notFound, 404),
        (.unauthorized, 401), (.forbidden, 403), (.conflict, 409), (.notImplemented, 501),
        (.unsupportedMediaType, 415), (.tooManyRequests, 429), (.unavailable, 503), (.badGateway, 502), (.internal, 500),
    ])
    func registryErrorsMapToTheirStatus(_ code: ViceError.Code, _ status: Int) {
        let answer = ErrorMiddleware.answer(for: ViceError(code, "words"), requestID: "r1")
        #expect(answer.status.code == status)
        #expect(answer.kind == code.name)
        #expect(answer.message == "words")
    }

    @Test func challengesAndRetryHintsComeWithTheirStatus() {
        #expect(ErrorMiddleware.answer(for: ViceError(.unauthorized, "who?"), requestID: "r").headers[.wwwAuthenticate]?
            .hasPrefix("Basic") == true)
        var busy = ViceError(.tooManyRequests, "slow down")
        busy.retryAfter = 7
        #expect(ErrorMiddleware.answer(for: busy, requestID: "r").headers[.retryAfter] == "7")
        #expect(ErrorMiddleware.answer(for: ViceError(.unavailable, "later"), requestID: "r").headers[.retryAfter] == "5")
    }

    @Test(arguments: [
        (AdapterError.Code.notFound, 404, "notFound"), (.unsupported, 405, "invalidInput"),
        (.invalidConfiguration, 405, "invalidInput"), (.authenticationFailed, 502, "badGateway"),
        (.remoteError, 502, "badGateway"), (.integrity, 502, "badGateway"), (.unavailable, 503, "unavailable"),
        (.timeout, 504, "gatewayTimeout"),
    ])
    func adapterErrorsAreTheGatewaysOrTheCallers(_ code: AdapterError.Code, _ status: Int, _ kind: String) {
        let answer = ErrorMiddleware.answer(for: AdapterError(code, "the cloud said no"), requestID: "r")
        #expect(answer.status.code == status)
        #expect(answer.kind == kind)
        #expect(answer.message == "the cloud said no")
        #expect(!answer.isServerFault, "the environment's failure is not this server's")
    }

    @Test func anUnknownErrorIsAnInternalErrorThatKeepsItsWordsToItself() {
        struct Secret: Error, CustomStringConvertible { var description: String { "password=hunter2" } }
        let answer = ErrorMiddleware.answer(for: Secret(), requestID: "req-42")
        #expect(answer.status == .internalServerError)
        #expect(answer.kind == "internal")
        #expect(answer.message == "internal error; see the server log for request req-42")
        #expect(answer.isServerFault)
    }

    @Test func policyRefusalsAndHummingbirdErrorsKeepTheirMeaning() {
        #expect(ErrorMiddleware.answer(for: HTTPError(.notFound), requestID: "r").status == .notFound)
        #expect(ErrorMiddleware.answer(for: HTTPError(.contentTooLarge), requestID: "r").kind == "payloadTooLarge")
    }
}
