import Foundation
import Testing
import ViceServer
import ViceTestSupport
import HTTPTypes

@Suite struct OpenAPIDocumentTests {
    @Test func theServedDocumentIsValidOpenAPIAndDescribesEveryRoute() async throws {
        let harness = try await APIHarness.make()
        let directory = try TemporaryDirectory()
        try await harness.run { api in
            let response = try await api.send(.get, "/v1/openapi.json")  // public: no credentials
            #expect(response.status == 200)
            #expect(response.headers[.contentType]?.hasPrefix("application/json") == true)
            let document = try #require(response.object as [String: Any]?)
            #expect((document["openapi"] as? String)?.hasPrefix("3.") == true)

            // Every route the server has is in the document, with its operation id, and nothing else is.
            let paths = try #require(document["paths"] as? [String: [String: Any]])
            var documented: Set<String> = []
            for (path, operations) in paths {
                // Besides operations, a path item may hold parameters shared by them.
                for (method, operation) in operations where !["parameters", "summary", "description"].contains(method) {
                    let id = (operation as? [String: Any])?["operationId"] as? String ?? "?"
                    documented.insert("\(method.uppercased()) \(path) \(id)")
                }
            }
            // (The operators' endpoints outside /v1 are answered before the router, by their middleware.)
            let served = Set(APIRoute.all.map { "\($0.method.rawValue) \($0.path) \($0.operationId)" })
                .union(OperationsRoute.allCases.map { "GET \($0.rawValue) \($0.operationId)" })
            #expect(documented == served)

            // A real validator checks the document.
            let file = directory.file("openapi.json")
            try response.body.write(to: URL(fileURLWithPath: file))
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = ["python3", "-c", """
                import json, sys
                from openapi_spec_validator import validate
                validate(json.load(open(sys.argv[1])))
                print("valid")
                """, file]
            let output = Pipe()
            process.standardOutput = output
            process.standardError = output
            try process.run()
            await process.finished()
            let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            #expect(process.terminationStatus == 0, "openapi-spec-validator: \(text)")
            #expect(text.contains("valid"))
        }
    }
}
