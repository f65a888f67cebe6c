import Foundation
import Testing
import ViceCore
@testable import ViceHTTP
import ViceTestSupport
import HummingbirdCore

/// The egress policy on real connections: schemes other than http(s) never reach libcurl's other
/// protocols, and every resolved address is checked before a socket opens.
@Suite(.serialized) struct EgressTests {
    let client = HTTPClient()

    func refusal(_ url: String, _ options: HTTPConnectionOptions) async -> HTTPClientError? {
        do {
            let response = try await client.execute(HTTPClientRequest(url: url, options: options))
            _ = try? await response.collect()
            return nil
        } catch let error as HTTPClientError {
            return error
        } catch {
            return HTTPClientError(.receive, "\(error)")
        }
    }

    @Test func onlyHTTPAndHTTPSAreFetched() async throws {
        // libcurl speaks file, gopher, dict, ftp…: none of them may be reached through an environment.
        for url in ["file:///etc/hostname", "gopher://127.0.0.1:70/_stats", "dict://127.0.0.1:11211/stats", "ftp://127.0.0.1/x",
                    "FILE:///etc/hostname"] {
            let error = await refusal(url, HTTPConnectionOptions(egress: .trusted))
            #expect(error?.kind == .invalidRequest, "\(url): \(String(describing: error))")
            #expect(error?.message.contains(ProcessInfo.processInfo.hostName) != true)
        }
    }

    @Test func loopbackIsRefusedToUntrustedEnvironmentsAtConnectTime() async throws {
        try await TestServer.with(.hostname("127.0.0.1", port: 0)) { port in
            let untrusted = HTTPConnectionOptions(egress: EgressPolicy())
            let literal = await refusal("http://127.0.0.1:\(port)/hello", untrusted)
            #expect(literal?.kind == .refused)
            #expect(literal?.message.contains("loopback") == true, "\(String(describing: literal))")
            #expect(literal?.isTransient == false)
            // A name that resolves into the refused range: the check sees the resolved address.
            let named = await refusal("http://localhost:\(port)/hello", untrusted)
            #expect(named?.kind == .refused, "\(String(describing: named))")
            // The same server is reachable for a trusted environment.
            let trusted = try await client.execute(HTTPClientRequest(url: "http://localhost:\(port)/hello",
                                                                     options: HTTPConnectionOptions(egress: .trusted)))
            #expect(trusted.status == 200)
            _ = try await trusted.collect()
        }
    }

    @Test func deniedRangesWinOverTrust() async throws {
        try await TestServer.with(.hostname("127.0.0.1", port: 0)) { port in
            var policy = EgressPolicy.trusted
            policy.denied = [IPRange("127.0.0.0/8")!, IPRange("::1")!]
            let error = await refusal("http://127.0.0.1:\(port)/hello", HTTPConnectionOptions(egress: policy))
            #expect(error?.kind == .refused)
            #expect(error?.message.contains("security.egress.deny") == true, "\(String(describing: error))")
        }
    }

    @Test func linkLocalIsRefusedAlwaysWithoutAPacketSent() async throws {
        // Refused in the open-socket callback: no connection is attempted at all.
        let error = await refusal("http://169.254.169.254/latest/meta-data/", HTTPConnectionOptions(egress: .trusted))
        #expect(error?.kind == .refused)
        #expect(error?.message.contains("link-local") == true, "\(String(describing: error))")
        #expect(EgressPolicy.trusted.refusal(for: [169, 254, 169, 254]) != nil)
        #expect(EgressPolicy.trusted.refusal(for: IPRange.parseAddress("fe80::1")!) != nil)
    }

    @Test func unixSocketsNeedATrustedEnvironment() async throws {
        let directory = try TemporaryDirectory()
        let socket = directory.file("api.sock")
        try await TestServer.with(.unixDomainSocket(path: socket)) { _ in
            let refused = await refusal("http://local/hello", HTTPConnectionOptions(unixSocketPath: socket, egress: EgressPolicy()))
            #expect(refused?.kind == .refused, "\(String(describing: refused))")
            let allowed = try await client.execute(HTTPClientRequest(url: "http://local/hello",
                                                                     options: HTTPConnectionOptions(unixSocketPath: socket, egress: .trusted)))
            #expect(allowed.status == 200)
            _ = try await allowed.collect()
        }
    }

    @Test func addressesAreComparedHoweverTheyAreSpelt() throws {
        let untrusted = EgressPolicy()
        #expect(untrusted.refusal(for: IPRange.parseAddress("::ffff:127.0.0.1")!) != nil)   // IPv4-mapped
        #expect(untrusted.refusal(for: IPRange.parseAddress("0.0.0.0")!) != nil)            // this host
        #expect(untrusted.refusal(for: IPRange.parseAddress("::1")!) != nil)
        #expect(untrusted.refusal(for: IPRange.parseAddress("192.0.2.10")!) == nil)
        let allowList = EgressPolicy(allowed: [IPRange("192.0.2.0/24")!])
        #expect(allowList.refusal(for: IPRange.parseAddress("192.0.2.10")!) == nil)
        #expect(allowList.refusal(for: IPRange.parseAddress("198.51.100.1")!)?.contains("security.egress.allow") == true)
        #expect(IPRange("10.0.0.0/33") == nil && IPRange("not an address") == nil && IPRange("10.1.2.3/8")?.description == "10.0.0.0/8")
    }

    @Test func urlsAreCheckedWhereTheyEnter() throws {
        let untrusted = EgressPolicy()
        for url in ["file:///etc/hostname#", "gopher://host:70/", "http://user:secret@host/", "http://[::1]:5000/v3",
                    "http://127.1.2.3/", "http://169.254.169.254/", "http://localhost:5000/", "not a url", "http:///path"] {
            #expect(throws: EgressRefusal.self, "\(url)") { try untrusted.check(url: url, what: "the URL") }
        }
        try untrusted.check(url: "https://keystone.example.org:5000/v3", what: "the URL")
        try EgressPolicy.trusted.check(url: "http://127.0.0.1:5000/v3", what: "the URL")
        #expect(throws: EgressRefusal.self) { try EgressPolicy.trusted.check(url: "http://169.254.169.254/", what: "the URL") }
        #expect(throws: EgressRefusal.self) { try untrusted.check(unixSocket: "/var/run/docker.sock", what: "the socket") }
        #expect(throws: EgressRefusal.self) { try EgressPolicy.trusted.check(unixSocket: "/run/../etc/x.sock", what: "the socket") }
    }

    @Test func locationPatternsMatchPrefixesHostsAndRanges() throws {
        let prefix = try #require(LocationPattern("https://keystone.uni.example:5000/"))
        #expect(prefix.matches("https://keystone.uni.example:5000/v3"))
        #expect(!prefix.matches("https://keystone.uni.example.evil.org:5000/v3"))
        let wildcard = try #require(LocationPattern("*.uni.example"))
        #expect(wildcard.matches("tcp://docker.inst.uni.example:2376") && wildcard.matches("sat.uni.example:9091"))
        #expect(!wildcard.matches("tcp://uni.example.evil.org:2376") && !wildcard.matches("tcp://evil-uni.example:1"))
        let range = try #require(LocationPattern("192.0.2.0/24"))
        #expect(range.matches("tcp://192.0.2.7:2376") && !range.matches("tcp://198.51.100.7:2376") && !range.matches("tcp://a.example:1"))
        #expect(LocationPattern.host(of: "https://u@[2001:db8::1]:5000/v3") == "2001:db8::1")
    }
}
