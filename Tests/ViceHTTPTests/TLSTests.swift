import Foundation
import Testing
import ViceHTTP
import ViceTestSupport

/// HTTPS against a real TLS server (Python's ssl module with a certificate openssl makes for the test).
@Suite struct TLSTests {
    /// Starts an HTTPS server on 127.0.0.1 with a fresh self-signed certificate for `localhost`.
    static func withServer(_ body: (Int, String) async throws -> Void) async throws {
        let directory = try TemporaryDirectory()
        let certificate = directory.file("cert.pem")
        let key = directory.file("key.pem")
        let portFile = directory.file("port")
        let server = Process()
        server.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        server.arguments = ["python3", "-c", """
            import http.server, ssl, subprocess, sys
            subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost",
                            "-addext", "subjectAltName=DNS:localhost", "-keyout", sys.argv[2], "-out", sys.argv[1]],
                           check=True, capture_output=True)
            class H(http.server.BaseHTTPRequestHandler):
                def do_GET(self):
                    body = b"secure hello"
                    self.send_response(200); self.send_header("Content-Length", str(len(body))); self.end_headers()
                    self.wfile.write(body)
                def log_message(self, *args): pass
            httpd = http.server.HTTPServer(("127.0.0.1", 0), H)
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(sys.argv[1], sys.argv[2])
            httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
            open(sys.argv[3], "w").write(str(httpd.server_address[1]))
            httpd.timeout = 30
            for _ in range(3):  # the three requests of the test, then exit: nothing outlives the test
                httpd.handle_request()
            """, certificate, key, portFile]
        // Not the test runner's pipes: a server holding them would keep `swift test` waiting.
        server.standardOutput = FileHandle.nullDevice
        server.standardError = FileHandle.nullDevice
        try server.run()
        var port = 0
        _ = await eventually(timeout: .seconds(20)) {
            port = Int((try? String(contentsOfFile: portFile, encoding: .utf8)) ?? "") ?? 0
            return port > 0
        }
        try await body(port, certificate)
    }

    @Test func certificatesAreVerifiedUnlessTrustedOrExplicitlyInsecure() async throws {
        try await Self.withServer { port, certificate in
            let client = HTTPClient()
            let url = "https://localhost:\(port)/"
            let untrusted = await #expect(throws: HTTPClientError.self) {
                try await client.execute(HTTPClientRequest(url: url))
            }
            #expect(untrusted?.kind == .tls, "\(String(describing: untrusted))")
            let trusted = try await client.execute(HTTPClientRequest(url: url, options: HTTPConnectionOptions(caBundlePath: certificate)))
            #expect(String(decoding: try await trusted.collect(), as: UTF8.self) == "secure hello")
            let insecure = try await client.execute(HTTPClientRequest(url: url, options: HTTPConnectionOptions(insecure: true)))
            #expect(insecure.status == 200)
        }
    }
}
