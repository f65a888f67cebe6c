// Header-only inspector for untrusted disk uploads, written from the formats' published
// specifications (qcow2.rst, VMware "Virtual Disk Format 1.1", the magic numbers of the others).
// It never reads a whole image: at most the first 4 KiB, the first qcow2 cluster (≤ 2 MiB), the
// last 1.5 KiB (VHD / VMDK footers) and a VMDK descriptor (≤ 64 KiB). Every field access is
// bounds-checked; hostile values become a `Refusal`, never a trap.

/// What the inspector found in a disk's header.
public struct DiskReport: Sendable, Hashable {
    /// The detected format.
    public var format: DiskFormat
    /// Guest-visible size in bytes, when the header says (raw and ISO: the file size).
    public var virtualSize: Int64?

    /// Creates a report.
    public init(format: DiskFormat, virtualSize: Int64?) {
        self.format = format
        self.virtualSize = virtualSize
    }
}

/// A format recognised from its magic bytes; raw value = qemu driver or common name.
public enum DiskFormat: String, Sendable, Hashable {
    case raw, qcow2, vmdk, qcowV1 = "qcow", qed, vdi, vhd, vhdx, luks, parallels, iso, gzip, xz, zstd, bzip2, lz4, sevenZip = "7z", zip, tar

    /// The format as the object of "the bytes are …".
    var phrase: String {
        switch self {
        case .raw: "a raw disk"
        case .qcow2: "a qcow2 image"
        case .vmdk: "a VMDK image"
        case .qcowV1: "a qcow version 1 image"
        case .qed: "a QED image"
        case .vdi: "a VDI (VirtualBox) image"
        case .vhd: "a VHD (Virtual PC) image"
        case .vhdx: "a VHDX image"
        case .luks: "a LUKS-encrypted volume"
        case .parallels: "a Parallels image"
        case .iso: "an ISO 9660 image"
        case .gzip: "gzip-compressed data"
        case .xz: "xz-compressed data"
        case .zstd: "zstd-compressed data"
        case .bzip2: "bzip2-compressed data"
        case .lz4: "lz4-compressed data"
        case .sevenZip: "a 7-Zip archive"
        case .zip: "a zip archive"
        case .tar: "a tar archive"
        }
    }

    /// Compressed streams and archives: containers, not disks.
    var isArchive: Bool { [.gzip, .xz, .zstd, .bzip2, .lz4, .sevenZip, .zip, .tar].contains(self) }
}

/// Inspects disk headers and refuses images that are unsafe to hand to `qemu-img convert`.
public enum DiskInspector {
    /// Why a disk is refused (the message is shown to the user on the image).
    public struct Refusal: Error, Sendable, Hashable, CustomStringConvertible {
        /// A plain-language reason.
        public var description: String
        init(_ description: String) { self.description = description }
    }

    // MARK: Detection

    private static let offsetZeroMagics: [([UInt8], DiskFormat)] = [
        (Array("QED\0".utf8), .qed),
        (Array("KDMV".utf8), .vmdk), (Array("COWD".utf8), .vmdk),
        (Array("conectix".utf8), .vhd), (Array("vhdxfile".utf8), .vhdx),
        ([0x4C, 0x55, 0x4B, 0x53, 0xBA, 0xBE], .luks),
        (Array("WithoutFreeSpace".utf8), .parallels), (Array("WithouFreSpacExt".utf8), .parallels),
        ([0x1F, 0x8B, 0x08], .gzip), ([0xFD, 0x37, 0x7A, 0x58, 0x5A, 0x00], .xz),
        ([0x28, 0xB5, 0x2F, 0xFD], .zstd), ([0x04, 0x22, 0x4D, 0x18], .lz4),
        ([0x37, 0x7A, 0xBC, 0xAF, 0x27, 0x1C], .sevenZip),
        ([0x50, 0x4B, 0x03, 0x04], .zip), ([0x50, 0x4B, 0x05, 0x06], .zip),
    ]

    /// Detects the format from the bytes (magic numbers; see the reference's table in §1) — pure,
    /// no throwing beyond reader errors. Magics at offset 0 win over the ISO mark at 0x8001, so a
    /// header hidden in an ISO's system area is reported as what qemu would probe it as.
    public static func detect(_ reader: any ByteReader) throws -> DiskFormat {
        let head = try read(reader, at: 0, count: 4096)
        if head.matches([0x51, 0x46, 0x49, 0xFB], at: 0) {   // "QFI\xfb"
            return head.be32(4) == 1 ? .qcowV1 : .qcow2
        }
        for (magic, format) in offsetZeroMagics where head.matches(magic, at: 0) { return format }
        // zstd skippable frame: u32le 0x184D2A50…5F.
        if head.count >= 4, head[0] & 0xF0 == 0x50, head.matches([0x2A, 0x4D, 0x18], at: 1) { return .zstd }
        if head.matches(Array("BZh".utf8), at: 0), head.count > 3, (0x31...0x39).contains(head[3]) { return .bzip2 }
        if head.le32(0x40) == 0xBEDA_107F { return .vdi }
        if head.matches(Array("ustar".utf8), at: 257), head.count > 262, head[262] == 0 || head[262] == 0x20 { return .tar }
        if looksLikeVMDKDescriptor(head) { return .vmdk }
        // A fixed VHD has its footer only in the last 512 (old writers: 511) bytes.
        let size = fileSize(reader)
        if size >= 512 {
            let tail = try read(reader, at: size - 512, count: 512)
            if tail.matches(Array("conectix".utf8), at: 0) || tail.matches(Array("conectix".utf8), at: 1) { return .vhd }
        }
        if try read(reader, at: 0x8001, count: 5).matches(Array("CD001".utf8), at: 0) { return .iso }
        return .raw   // includes MBR/GPT disks, which qemu opens as raw
    }

    /// QEMU probes text as a VMDK descriptor when the first line that is not a `#` comment is
    /// `version=…`; oslo also counts ASCII text naming a `createType`. Blank lines are skipped too
    /// (QEMU does not skip them, but `-f vmdk` parses such a file anyway).
    private static func looksLikeVMDKDescriptor(_ head: [UInt8]) -> Bool {
        let text = head.prefix { $0 != 0 }
        for line in String(decoding: text, as: UTF8.self).split(whereSeparator: \.isNewline) {
            let t = trim(line)
            if t.isEmpty || t.hasPrefix("#") { continue }
            if t.hasPrefix("version=") { return true }
            break
        }
        let printable = !text.isEmpty && text.allSatisfy { (0x20...0x7E).contains($0) || $0 == 9 || $0 == 10 || $0 == 13 }
        return printable && find("createtype", in: lowercasedASCII(Array(text))) != nil
    }

    // MARK: Inspection

    /// Inspects a disk declared as `declared` (.diskRaw, .diskQcow2 or .diskVmdk) and returns the
    /// detected format with its virtual size (qcow2 u64be @0x18, VMDK capacity × 512, raw and ISO
    /// the file size). Throws `Refusal` when the bytes do not match the declaration, when the image
    /// would make qemu-img open other files (backing file, external data file, VMDK extents or
    /// parent), when it is encrypted, corrupt or uses unknown features, or when the header is
    /// truncated or malformed.
    public static func inspect(_ reader: any ByteReader, declared: ContentType) throws -> DiskReport {
        let expected: DiskFormat
        switch declared {
        case .diskRaw: expected = .raw
        case .diskQcow2: expected = .qcow2
        case .diskVmdk: expected = .vmdk
        default: throw Refusal("\(declared.rawValue) is not a disk type; only disk-raw, disk-qcow2 and disk-vmdk are inspected")
        }
        let detected = try detect(reader)
        // An ISO is a raw disk: qemu-img has no ISO driver and opens it as raw.
        guard detected == expected || (expected == .raw && detected == .iso) else {
            let hint = detected.isArchive ? "; archives and compressed files are not disk images, upload the disk itself"
                : [.raw, .qcow2, .vmdk].contains(detected) ? ""
                : "; only raw, qcow2 (versions 2 and 3) and VMDK disks are accepted, convert it first"
            throw Refusal("declared \(declared.rawValue) but the bytes are \(detected.phrase)\(hint)")
        }
        switch detected {
        case .qcow2: return try inspectQcow2(reader)
        case .vmdk: return try inspectVMDK(reader)
        default: return DiskReport(format: detected, virtualSize: fileSize(reader))
        }
    }

    // MARK: qcow2 (docs/interop/qcow2.rst; all fields big-endian)

    private static func inspectQcow2(_ r: any ByteReader) throws -> DiskReport {
        let h = try read(r, at: 0, count: 512)
        guard h.count >= 72 else { throw Refusal("the qcow2 image is truncated (\(h.count) bytes; its header needs 72)") }
        let version = h.be32(4)
        guard version == 2 || version == 3 else {
            throw Refusal("the qcow2 image has version \(version); only versions 2 and 3 are supported")
        }
        var headerLength = 72
        if version == 3 {
            guard h.count >= 104 else { throw Refusal("the qcow2 image is truncated (\(h.count) bytes; a version 3 header needs 104)") }
            let length = h.be32(0x64)
            guard length >= 104, length % 8 == 0 else {
                throw Refusal("the qcow2 header_length \(length) is invalid (version 3 needs at least 104 and a multiple of 8)")
            }
            headerLength = Int(length)
            guard fileSize(r) >= Int64(headerLength) else {
                throw Refusal("the qcow2 image is truncated (\(fileSize(r)) bytes; its header needs \(headerLength))")
            }
        }
        let clusterBits = h.be32(0x14)
        guard (9...21).contains(clusterBits) else {
            throw Refusal("the qcow2 image has cluster_bits \(clusterBits); only 9 to 21 (512 B to 2 MiB clusters) are supported")
        }
        let clusterSize = 1 << Int(clusterBits)
        guard headerLength <= clusterSize else { throw Refusal("the qcow2 header_length \(headerLength) exceeds the cluster size") }

        // qemu-img convert opens the backing file, and the name may be a host path or a json: spec.
        let backingOffset = h.be64(8)
        if backingOffset != 0 {
            let length = Int(min(h.be32(0x10), 1023))
            let name = backingOffset < UInt64(fileSize(r)) ? try read(r, at: Int64(backingOffset), count: length) : []
            throw Refusal("the qcow2 image names a backing file (\(name.isEmpty ? "name unreadable" : quoted(name))); images that depend on other files are refused")
        }
        let crypt = h.be32(0x20)
        if crypt != 0 {
            let method = crypt == 1 ? "AES" : crypt == 2 ? "LUKS" : "method \(crypt)"
            throw Refusal("the qcow2 image is encrypted (\(method)); encrypted images cannot be converted without their key and are refused")
        }
        let walk = try walkExtensions(r, start: headerLength, clusterSize: clusterSize)
        if version == 3 {
            let incompatible = h.be64(0x48)
            if incompatible & 0b100 != 0 {
                let name = walk.dataFile.map { " (\(quoted($0)))" } ?? ""
                throw Refusal("the qcow2 image keeps its data in an external data file\(name); images that depend on other files are refused")
            }
            if incompatible & 0b10 != 0 {
                throw Refusal("the qcow2 image is marked corrupt; repair it with `qemu-img check -r all` before uploading")
            }
            // Bit 0 (dirty) only affects read-write opens; bits 3 (zstd) and 4 (extended L2) are
            // supported by QEMU ≥ 5.2/6.0. Bits 5–63 are reserved: QEMU must refuse to open.
            let unknown = (5..<64).filter { (incompatible >> UInt64($0)) & 1 == 1 }
            if !unknown.isEmpty {
                throw Refusal("the qcow2 image uses unknown incompatible features (bit \(unknown.map(String.init).joined(separator: ", "))); it cannot be opened safely")
            }
            let compression = headerLength > 104 ? h.uint(0x68, 1, bigEndian: true) : 0
            guard compression <= 1, (compression != 0) == (incompatible & 0b1000 != 0) else {
                throw Refusal("the qcow2 image is malformed: compression_type \(compression) does not match incompatible feature bit 3")
            }
            guard incompatible & 0b1_0000 == 0 || clusterBits >= 14 else {
                throw Refusal("the qcow2 image is malformed: extended L2 entries need clusters of at least 16 KiB")
            }
            guard h.be32(0x60) <= 6 else { throw Refusal("the qcow2 image is malformed: refcount_order \(h.be32(0x60)) is above 6") }
        }
        if let problem = walk.problem { throw Refusal("the qcow2 header extensions are malformed: \(problem)") }
        let size = h.be64(0x18)
        guard size <= UInt64(Int64.max) else { throw Refusal("the qcow2 virtual size \(size) is too large") }
        return DiskReport(format: .qcow2, virtualSize: Int64(size))
    }

    /// Walks the header extensions (u32 type, u32 length, data padded to 8), which must end with
    /// type 0 inside the first cluster. Returns the external data-file name (`DATA`) if present and
    /// what is wrong with the list, if anything (reported after the more specific refusals).
    private static func walkExtensions(_ r: any ByteReader, start: Int, clusterSize: Int) throws -> (dataFile: [UInt8]?, problem: String?) {
        let area = try read(r, at: 0, count: clusterSize)
        var offset = start
        var dataFile: [UInt8]?
        while true {
            guard offset <= clusterSize - 8 else { return (dataFile, "the list runs past the first cluster") }
            guard offset <= area.count - 8 else { return (dataFile, "the file ends inside the list") }
            let type = area.be32(offset)
            if type == 0 { return (dataFile, nil) }
            let length = Int(area.be32(offset + 4))
            let name = "extension 0x" + String(type, radix: 16)
            guard length <= clusterSize - offset - 8 else { return (dataFile, "\(name) (\(length) bytes) runs past the first cluster") }
            let end = offset + 8 + length
            guard end <= area.count else { return (dataFile, "the file ends inside \(name)") }
            if type == 0x4441_5441 { dataFile = Array(area[(offset + 8)..<end]) }
            offset = end + (8 - length % 8) % 8
        }
    }

    // MARK: VMDK (VMware Virtual Disk Format 1.1; binary fields little-endian)

    private static let kdmv = Array("KDMV".utf8)

    private static func inspectVMDK(_ r: any ByteReader) throws -> DiskReport {
        let primary = try read(r, at: 0, count: 512)
        if primary.matches(Array("COWD".utf8), at: 0) {
            throw Refusal("the VMDK is an ESX COWD (vmfsSparse) delta extent; it depends on a descriptor and a parent disk and is refused")
        }
        guard primary.matches(kdmv, at: 0) else {
            throw Refusal("the VMDK is a text descriptor file; its data lives in other files (extents), so it is refused. Upload a monolithicSparse or streamOptimized VMDK")
        }
        guard primary.count == 512 else { throw Refusal("the VMDK is truncated (\(primary.count) bytes; its sparse header needs 512)") }
        // gdOffset all ones: a streamOptimized file written front to back; QEMU then uses the
        // header copy in the footer, so that copy is what must be checked.
        let header = primary.le64(56) == .max ? try vmdkFooterHeader(r, primary: primary) : primary
        let version = header.le32(4)
        guard (1...3).contains(version) else { throw Refusal("the VMDK sparse header has version \(version); only 1 to 3 are supported") }
        let capacity = header.le64(12), grain = header.le64(20), descriptorSector = header.le64(28), gtes = header.le32(44)
        guard (1...0x20_0000).contains(grain), (1...512).contains(gtes) else {
            throw Refusal("the VMDK sparse header is malformed (grain size \(grain) sectors, \(gtes) entries per grain table)")
        }
        let (bytes, overflow) = capacity.multipliedReportingOverflow(by: 512)
        guard !overflow, bytes <= UInt64(Int64.max) else { throw Refusal("the VMDK capacity (\(capacity) sectors) is too large") }
        if descriptorSector != 0 {
            guard capacity != 0 else {
                throw Refusal("the VMDK has capacity 0 and an embedded descriptor; QEMU would treat it as a descriptor file and open its extents, so it is refused")
            }
            try checkEmbeddedDescriptor(r, sector: descriptorSector)
        }
        return DiskReport(format: .vmdk, virtualSize: Int64(bytes))
    }

    /// The last three sectors: footer marker (size 0, type 3), header copy, end-of-stream marker.
    private static func vmdkFooterHeader(_ r: any ByteReader, primary: [UInt8]) throws -> [UInt8] {
        let size = fileSize(r)
        guard size >= 2048 else { throw Refusal("the VMDK header points to a footer, but the file is too short to hold one") }
        let f = try read(r, at: size - 1536, count: 1536)
        guard f.count == 1536, f.le32(8) == 0, f.le32(12) == 3, f.matches(kdmv, at: 512),
              f.le64(1024) == 0, f.le32(1032) == 0, f.le32(1036) == 0 else {
            throw Refusal("the VMDK header points to a footer, but the footer is missing or malformed")
        }
        let footer = Array(f[512..<1024])
        guard footer.le64(56) != .max else { throw Refusal("the VMDK footer is malformed (it points to another footer)") }
        guard footer.le64(28) == primary.le64(28), footer.le64(36) == primary.le64(36) else {
            throw Refusal("the VMDK header and footer disagree about where the descriptor is")
        }
        return footer
    }

    private static let descriptorLimit = 64 << 10

    /// Reads the NUL-terminated descriptor text at `sector` × 512 (≤ 64 KiB; QEMU's own look-up
    /// of `parentFileNameHint` scans the text from there up to the first NUL).
    private static func checkEmbeddedDescriptor(_ r: any ByteReader, sector: UInt64) throws {
        let (offset, overflow) = sector.multipliedReportingOverflow(by: 512)
        guard !overflow, offset < UInt64(fileSize(r)) else {
            throw Refusal("the VMDK descriptor (sector \(sector)) lies past the end of the file")
        }
        let window = try read(r, at: Int64(offset), count: descriptorLimit)
        let text = Array(window.prefix { $0 != 0 })
        guard text.count < descriptorLimit else { throw Refusal("the VMDK descriptor is longer than 64 KiB") }
        guard text.contains(where: { $0 > 0x20 }) else {
            throw Refusal("the VMDK's embedded descriptor is empty; this looks like one extent of a split VMDK, not a whole disk")
        }
        try checkDescriptor(text)
    }

    /// Accepts only what a single-file sparse VMDK carries: createType monolithicSparse or
    /// streamOptimized, exactly one SPARSE extent line naming a plain file name, no parent.
    private static func checkDescriptor(_ text: [UInt8]) throws {
        // QEMU finds parentFileNameHint with strstr, so it counts even inside a comment.
        let hintKey = "parentfilenamehint"
        if let at = find(hintKey, in: lowercasedASCII(text)) {
            let rest = text[(at + hintKey.utf8.count)...].prefix { $0 != 10 && $0 != 13 }
            let value = rest.drop { $0 == 0x3D || $0 == 0x20 || $0 == 0x22 }.filter { $0 != 0x22 }
            throw Refusal("the VMDK names a parent disk (\(quoted(value))); images that depend on other files are refused")
        }
        var createType: String?, parentCID: String?
        var extents: [(type: String, name: Substring?)] = []
        for raw in String(decoding: text, as: UTF8.self).split(whereSeparator: \.isNewline) {
            let line = trim(raw)
            if line.isEmpty || line.hasPrefix("#") { continue }
            let fields = line.split(whereSeparator: \.isWhitespace)
            if let access = fields.first, ["RW", "RDONLY", "NOACCESS"].contains(access.uppercased()) {
                var name: Substring?
                if let q1 = line.firstIndex(of: "\""), let q2 = line[line.index(after: q1)...].firstIndex(of: "\"") {
                    name = line[line.index(after: q1)..<q2]
                }
                extents.append((fields.count > 2 ? fields[2].uppercased() : "", name))
            } else if let eq = line.firstIndex(of: "=") {
                let key = trim(line[..<eq]).lowercased()
                let value = trim(line[line.index(after: eq)...]).filter { $0 != "\"" }
                if key == "createtype" { createType = value } else if key == "parentcid" { parentCID = value.lowercased() }
            } else {
                throw Refusal("the VMDK descriptor has an unexpected line \(quoted(line.utf8))")
            }
        }
        guard let type = createType, ["monolithicsparse", "streamoptimized"].contains(type.lowercased()) else {
            let shown = createType.map { quoted($0.utf8) } ?? "none"
            throw Refusal("the VMDK descriptor has createType \(shown); only monolithicSparse and streamOptimized are accepted")
        }
        guard extents.count == 1, let extent = extents.first else {
            throw Refusal("the VMDK descriptor lists \(extents.count) extents; exactly one SPARSE extent (the image itself) is accepted")
        }
        guard let name = extent.name else { throw Refusal("the VMDK descriptor has an invalid extent line (no quoted file name)") }
        guard extent.type == "SPARSE" else {
            throw Refusal("the VMDK descriptor has a \(quoted(extent.type.utf8)) extent naming \(quoted(name.utf8)); only a SPARSE extent inside the image itself is accepted")
        }
        guard !name.isEmpty, !name.contains("/"), !name.contains("\\") else {
            throw Refusal("the VMDK extent names the path \(quoted(name.utf8)); only the image's own file name is accepted")
        }
        if let cid = parentCID, cid != "ffffffff", !cid.allSatisfy({ $0 == "0" }) {
            throw Refusal("the VMDK descriptor names a parent disk (parentCID=\(quoted(cid.utf8))); delta disks are refused")
        }
    }

    // MARK: Helpers

    /// The reader's size, never negative.
    private static func fileSize(_ r: any ByteReader) -> Int64 { max(0, r.size) }

    /// At most `count` bytes at `offset`; empty outside the file.
    private static func read(_ r: any ByteReader, at offset: Int64, count: Int) throws -> [UInt8] {
        guard offset >= 0, count > 0, offset < fileSize(r) else { return [] }
        let bytes = try r.read(at: offset, count: count)
        return bytes.count > count ? Array(bytes.prefix(count)) : bytes
    }

    /// Untrusted text for a message: printable ASCII only (others → `?`), at most 100 characters.
    private static func quoted(_ bytes: some Sequence<UInt8>, limit: Int = 100) -> String {
        var out = ""
        var n = 0
        for b in bytes {
            if n == limit { return "'\(out)…'" }
            out.append((0x20...0x7E).contains(b) ? Character(Unicode.Scalar(b)) : "?")
            n += 1
        }
        return "'\(out)'"
    }

    private static func trim(_ s: Substring) -> Substring {
        var s = s
        while let c = s.first, c.isWhitespace { s.removeFirst() }
        while let c = s.last, c.isWhitespace { s.removeLast() }
        return s
    }

    private static func lowercasedASCII(_ bytes: [UInt8]) -> [UInt8] {
        bytes.map { (0x41...0x5A).contains($0) ? $0 | 0x20 : $0 }
    }

    /// Offset of the first occurrence of the ASCII `needle` in `hay`.
    private static func find(_ needle: String, in hay: [UInt8]) -> Int? {
        let n = Array(needle.utf8)
        guard let first = n.first, hay.count >= n.count else { return nil }
        for i in 0...(hay.count - n.count) where hay[i] == first && hay[i..<(i + n.count)].elementsEqual(n) { return i }
        return nil
    }
}

/// Field access on untrusted buffers: a read past the end yields 0 (callers check lengths first),
/// so hostile input can never trap here.
private extension Array where Element == UInt8 {
    func uint(_ at: Int, _ width: Int, bigEndian: Bool) -> UInt64 {
        guard at >= 0, width <= 8, at <= count - width else { return 0 }
        var value: UInt64 = 0
        for i in 0..<width { value = value << 8 | UInt64(self[bigEndian ? at + i : at + width - 1 - i]) }
        return value
    }
    func be32(_ at: Int) -> UInt32 { UInt32(truncatingIfNeeded: uint(at, 4, bigEndian: true)) }
    func be64(_ at: Int) -> UInt64 { uint(at, 8, bigEndian: true) }
    func le32(_ at: Int) -> UInt32 { UInt32(truncatingIfNeeded: uint(at, 4, bigEndian: false)) }
    func le64(_ at: Int) -> UInt64 { uint(at, 8, bigEndian: false) }
    func matches(_ magic: [UInt8], at: Int) -> Bool {
        at >= 0 && at <= count - magic.count && self[at..<(at + magic.count)].elementsEqual(magic)
    }
}
