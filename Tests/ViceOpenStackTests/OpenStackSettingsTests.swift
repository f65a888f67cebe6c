import Foundation
import Testing
import ViceCore
import ViceHTTP
@testable import ViceOpenStack

/// Settings parsing and URL handling: no cloud needed.
@Suite struct OpenStackSettingsTests {
    func environment(_ specifics: JSONValue?, location: String = "https://keystone.example:5000/v3") -> Environment {
        Environment(credentials: Credentials(location: location, username: "u", password: "p", specifics: specifics),
                    managementlayer: ManagementLayer(type: .cloudcomputing, software: "openstack"))
    }

    @Test func bothSpellingsOfTheSpecificsAreAcceptedAndTheLowerCaseOneWins() throws {
        let old = try OpenStackSettings(environment(.object(["TenantName": .string("p1"), "Region": .string("R"), "Domain": .string("D")])))
        #expect(old.project == "p1" && old.region == "R" && old.userDomain == "D" && old.projectDomain == "D")
        let both = try OpenStackSettings(environment(.object(["tenant": .string("low"), "TenantName": .string("up")])))
        #expect(both.project == "low")
        #expect(both.userDomain == "Default" && both.region == nil && both.interface == "public")
        // The seed's clients send specifics as a JSON document inside a string.
        let encoded = try OpenStackSettings(environment(.string(#"{"tenant": "p2", "region": "", "userDomain": "U", "domain": "D"}"#)))
        #expect(encoded.project == "p2" && encoded.region == nil && encoded.userDomain == "U" && encoded.projectDomain == "D")
    }

    @Test func missingOrBadSettingsAreRefusedWithTheirName() throws {
        let noTenant = #expect(throws: AdapterError.self) { try OpenStackSettings(environment(.object([:]))) }
        #expect(noTenant?.message.contains("specifics.tenant") == true)
        let badURL = #expect(throws: AdapterError.self) {
            try OpenStackSettings(environment(.object(["tenant": .string("p")]), location: "keystone:5000"))
        }
        #expect(badURL?.message.contains("Keystone identity URL") == true)
        let interface = #expect(throws: AdapterError.self) {
            try OpenStackSettings(environment(.object(["tenant": .string("p"), "interface": .string("private")])))
        }
        #expect(interface?.code == .invalidConfiguration)
    }

    @Test func catalogURLsGetExactlyOneV2() throws {
        #expect(Keystone.glanceV2("http://glance:9292") == "http://glance:9292/v2")
        #expect(Keystone.glanceV2("http://glance:9292/") == "http://glance:9292/v2")
        #expect(Keystone.glanceV2("http://glance:9292/v2/") == "http://glance:9292/v2")
        #expect(Keystone.glanceV2("https://cloud.example/image/v2.1") == "https://cloud.example/image/v2.1")
        #expect(Keystone.glanceV2("https://cloud.example/image") == "https://cloud.example/image/v2")
        #expect(try Glance.url(endpoint: "http://g:9292/v2", path: "/images?limit=1") == "http://g:9292/v2/images?limit=1")
        #expect(try Glance.url(endpoint: "http://g:9292/v2", path: "/v2/images?marker=x") == "http://g:9292/v2/images?marker=x")
        // A `next` link to another server (or another scheme) is not followed.
        #expect(try Glance.url(endpoint: "http://g:9292/v2", path: "http://g:9292/v2/images?marker=y") == "http://g:9292/v2/images?marker=y")
        #expect(throws: AdapterError.self) { try Glance.url(endpoint: "http://g:9292/v2", path: "http://169.254.169.254:9292/v2/images") }
        #expect(throws: AdapterError.self) { try Glance.url(endpoint: "http://g:9292/v2", path: "file:///etc/passwd") }
    }

    @Test func endpointsAreChosenByInterfaceAndRegionAndAmbiguityIsAnError() throws {
        let endpoints = [
            CatalogEntry.Endpoint(interface: "public", region: "R1", region_id: "R1", url: "http://one:9292"),
            CatalogEntry.Endpoint(interface: "internal", region: "R1", region_id: "R1", url: "http://one-internal:9292"),
            CatalogEntry.Endpoint(interface: "public", region: "R2", region_id: "R2", url: "http://two:9292/v2"),
        ]
        let token = KeystoneToken(value: "t", expiresAt: Date().addingTimeInterval(3600),
                                  catalog: [CatalogEntry(type: "identity", name: "keystone", endpoints: []),
                                            CatalogEntry(type: "image", name: "glance", endpoints: endpoints)])
        func keystone(_ specifics: [String: JSONValue]) throws -> Keystone {
            var all = specifics
            all["tenant"] = .string("p")
            return Keystone(settings: try OpenStackSettings(environment(.object(all))), client: .init())
        }
        #expect(try keystone(["region": .string("R2")]).imageEndpoint(in: token) == "http://two:9292/v2")
        #expect(try keystone(["region": .string("R1"), "interface": .string("internal")]).imageEndpoint(in: token)
            == "http://one-internal:9292/v2")
        let ambiguous = #expect(throws: AdapterError.self) { try keystone([:]).imageEndpoint(in: token) }
        #expect(ambiguous?.message.contains("2 image endpoints") == true)
        let none = #expect(throws: AdapterError.self) { try keystone(["region": .string("Nowhere")]).imageEndpoint(in: token) }
        #expect(none?.message.contains("region Nowhere") == true && none?.message.contains("(public, R2)") == true)
        #expect(try keystone(["region": .string("Nowhere"), "imageEndpoint": .string("http://proxy:1")]).imageEndpoint(in: token)
            == "http://proxy:1/v2")
    }

    @Test func tokenExpiryIsReadFromKeystonesTimestamps() throws {
        let date = try #require(KeystoneToken.parseExpiry("2026-11-29T06:20:11.000000Z"))
        #expect(date.timeIntervalSince1970 == 1_795_933_211)
        let token = KeystoneToken(value: "t", expiresAt: Date().addingTimeInterval(60), catalog: [])
        #expect(!token.isFresh())
        #expect(KeystoneToken(value: "t", expiresAt: Date().addingTimeInterval(3600), catalog: []).isFresh())
    }

    @Test func onlyRealGlanceIdsReachAURL() throws {
        #expect(try OpenStackAdapter.validID(" 9780CC54-e736-4c5a-b223-b03c652f6007 ") == "9780cc54-e736-4c5a-b223-b03c652f6007")
        #expect(throws: AdapterError.self) { try OpenStackAdapter.validID("../../v3/auth/tokens") }
        #expect(throws: AdapterError.self) { try OpenStackAdapter.validID("") }
    }
}
