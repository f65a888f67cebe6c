import Foundation

/// An address range in CIDR notation (`10.0.0.0/8`, `fe80::/10`) or a single address. IPv4-mapped
/// IPv6 addresses (`::ffff:127.0.0.1`) are compared as the IPv4 address they carry, so a range
/// cannot be bypassed by spelling an address the other way.
public struct IPRange: Sendable, Hashable, CustomStringConvertible {
    /// 4 or 16 bytes.
    public let network: [UInt8]
    public let prefixLength: Int

    public init?(_ text: String) {
        let parts = text.trimmingCharacters(in: .whitespaces).split(separator: "/", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), let address = IPRange.parseAddress(String(parts[0])) else { return nil }
        let bits = address.count * 8
        var length = bits
        if parts.count == 2 {
            guard let given = Int(parts[1]), (0...bits).contains(given) else { return nil }
            length = given
        }
        network = IPRange.masked(address, to: length)
        prefixLength = length
    }

    /// Whether `address` (4 or 16 bytes, as a socket carries it) lies in this range.
    public func contains(_ address: [UInt8]) -> Bool {
        let address = IPRange.unmapped(address)
        guard address.count == network.count else { return false }
        return IPRange.masked(address, to: prefixLength) == network
    }

    public var description: String {
        "\(IPRange.format(network))/\(prefixLength)"
    }

    /// The bytes of an IPv4 or IPv6 literal (brackets allowed), nil for anything else.
    public static func parseAddress(_ text: String) -> [UInt8]? {
        var text = text
        if text.hasPrefix("["), text.hasSuffix("]") { text = String(text.dropFirst().dropLast()) }
        var v4 = in_addr()
        if text.contains("."), !text.contains(":"), inet_pton(AF_INET, text, &v4) == 1 {
            return withUnsafeBytes(of: &v4) { Array($0) }
        }
        var v6 = in6_addr()
        if text.contains(":"), inet_pton(AF_INET6, text, &v6) == 1 {
            return unmapped(withUnsafeBytes(of: &v6) { Array($0) })
        }
        return nil
    }

    /// `::ffff:a.b.c.d` → `a.b.c.d`; other addresses unchanged.
    static func unmapped(_ address: [UInt8]) -> [UInt8] {
        if address.count == 16, address[0..<10].allSatisfy({ $0 == 0 }), address[10] == 0xFF, address[11] == 0xFF {
            return Array(address[12..<16])
        }
        return address
    }

    static func masked(_ address: [UInt8], to length: Int) -> [UInt8] {
        address.enumerated().map { index, byte in
            let kept = max(0, min(8, length - index * 8))
            return kept == 8 ? byte : byte & UInt8(truncatingIfNeeded: 0xFF << (8 - kept))
        }
    }

    public static func format(_ address: [UInt8]) -> String {
        var bytes = address
        let family = bytes.count == 4 ? AF_INET : AF_INET6
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN) + 1)
        guard bytes.count == 4 || bytes.count == 16,
              inet_ntop(family, &bytes, &buffer, socklen_t(buffer.count)) != nil else { return "?" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    public static let loopback = [IPRange("127.0.0.0/8")!, IPRange("::1/128")!, IPRange("0.0.0.0/8")!, IPRange("::/128")!]
    /// Link-local ranges, and the cloud metadata services that live elsewhere (AWS's IPv6
    /// `fd00:ec2::254`, Alibaba's `100.100.100.200`).
    public static let linkLocal = [IPRange("169.254.0.0/16")!, IPRange("fe80::/10")!, IPRange("fd00:ec2::254/128")!,
                                   IPRange("100.100.100.200/32")!]
}
