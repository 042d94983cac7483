import JSONKit

/// The one stored form of a share link, for both stores: which fields a record is stored as, how each is written,
/// and which stored fields are a record at all. SQLite keeps the fields as the columns of `links` (after `digest`),
/// Redis as the fields of the link's hash; neither store writes or reads a field any other way, so a record means
/// the same in both, and a file or hash written by an earlier presignd opens unchanged (the formats are fixed:
/// `LinkCodecTests` holds records written before this type existed).
///
/// Reading is where hostile input arrives (a file edited by hand, a Redis that lies): every value is bounded,
/// every field checked for its kind, and the record must be one presignd could have written (`isWellFormed`), or
/// there is no record.
enum LinkCodec {
    /// No stored value is longer than this: claims come from a token inside the request head (at most 1 MiB), and
    /// a Redis bulk reply is bounded the same. SQLite refuses a longer value as it loads it (`limitValues`).
    static let maxValueBytes = 1 << 20

    /// The stored fields, in the order both stores write them.
    enum Field: Int, CaseIterable, Sendable {
        case caller, subject, claims, backend, bucket, key, response, createdAt, expiresAt, maxUses, uses, revoked

        /// Its column name and hash field name.
        var name: String {
            switch self {
            case .caller: return "caller"
            case .subject: return "subject"
            case .claims: return "claims"
            case .backend: return "backend"
            case .bucket: return "bucket"
            case .key: return "key"
            case .response: return "response"
            case .createdAt: return "created_at"
            case .expiresAt: return "expires_at"
            case .maxUses: return "max_uses"
            case .uses: return "uses"
            case .revoked: return "revoked"
            }
        }

        /// Stored as an integer (SQLite INTEGER; decimal text in Redis).
        var isInteger: Bool {
            switch self {
            case .createdAt, .expiresAt, .maxUses, .uses, .revoked: return true
            default: return false
            }
        }

        /// May be absent (SQL NULL; no field in the hash): no JWT subject, no use limit.
        var isOptional: Bool { self == .subject || self == .maxUses }

        static let byName: [String: Field] = Dictionary(uniqueKeysWithValues: allCases.map { ($0.name, $0) })
        /// `allCases` built once: the synthesized property builds a new array at every use.
        static let all = allCases
    }

    enum Value: Sendable, Equatable {
        case text(String)
        case integer(Int64)

        /// As Redis keeps it.
        var text: String {
            switch self {
            case .text(let text): return text
            case .integer(let number): return String(number)
            }
        }
    }

    /// The record as stored, one value per `Field` in order, nil for an absent one.
    static func fields(_ record: LinkRecord) -> [Value?] {
        Field.all.map { field in
            switch field {
            case .caller: return .text(record.caller)
            case .subject: return record.subject.map { .text($0) }
            case .claims: return .text(encode(record.claims))
            case .backend: return .text(record.backend)
            case .bucket: return .text(record.bucket)
            case .key: return .text(record.key)
            case .response: return .text(encode(record.response))
            case .createdAt: return .integer(record.createdAt)
            case .expiresAt: return .integer(record.expiresAt)
            case .maxUses: return record.maxUses.map { .integer($0) }
            case .uses: return .integer(record.uses)
            case .revoked: return .integer(record.revoked ? 1 : 0)
            }
        }
    }

    /// The record these stored fields hold (one per `Field`, in order), or nil unless every required field is
    /// there with a value of its kind within `maxValueBytes`, the maps are JSON objects of strings, `revoked` is 0
    /// or 1, and the record is well formed. An integer field may arrive as text (Redis keeps only text), written
    /// exactly as presignd and Redis write integers: decimal, no sign but a minus, no leading zero or space.
    static func record(_ digest: [UInt8], _ stored: [Value?]) -> LinkRecord? {
        guard stored.count == Field.all.count else { return nil }
        var texts: [String?] = []
        var numbers: [Int64?] = []
        // One allocation each rather than one per doubling as the 12 fields are appended.
        texts.reserveCapacity(Field.all.count)
        numbers.reserveCapacity(Field.all.count)
        for field in Field.all {
            var text: String?
            var number: Int64?
            switch stored[field.rawValue] {
            case nil:
                guard field.isOptional else { return nil }
            case .text(let value)?:
                guard value.utf8.count <= maxValueBytes else { return nil }
                if field.isInteger {
                    guard let parsed = Int64(value), String(parsed) == value else { return nil }
                    number = parsed
                } else {
                    text = value
                }
            case .integer(let value)?:
                guard field.isInteger else { return nil }
                number = value
            }
            texts.append(text)
            numbers.append(number)
        }
        func text(_ field: Field) -> String? { texts[field.rawValue] }
        func number(_ field: Field) -> Int64? { numbers[field.rawValue] }
        guard let caller = text(.caller), let claims = text(.claims).flatMap(decode), let backend = text(.backend),
            let bucket = text(.bucket), let key = text(.key), let response = text(.response).flatMap(decode),
            let createdAt = number(.createdAt), let expiresAt = number(.expiresAt), let uses = number(.uses),
            let revoked = number(.revoked), revoked == 0 || revoked == 1
        else { return nil }
        let record = LinkRecord(
            digest: digest, caller: caller, subject: text(.subject), claims: claims, backend: backend, bucket: bucket, key: key,
            response: response, createdAt: createdAt, expiresAt: expiresAt, maxUses: number(.maxUses), uses: uses,
            revoked: revoked == 1)
        return record.isWellFormed ? record : nil
    }

    /// The record as a Redis hash: its field/value pairs in `Field` order, absent fields left out.
    static func hash(_ record: LinkRecord) -> [(name: String, value: String)] {
        zip(Field.all, fields(record)).compactMap { field, value in value.map { (field.name, $0.text) } }
    }

    /// The record a Redis hash holds (HGETALL's pairs), or nil when a field is unknown or repeated, a value is over
    /// `maxValueBytes`, or `record` refuses what is there.
    static func record(_ digest: [UInt8], hash pairs: [(name: [UInt8], value: [UInt8])]) -> LinkRecord? {
        guard pairs.count <= Field.all.count else { return nil }
        var stored = [Value?](repeating: nil, count: Field.all.count)
        for (name, value) in pairs {
            guard let field = Field.byName[String(decoding: name, as: UTF8.self)], stored[field.rawValue] == nil,
                value.count <= maxValueBytes
            else { return nil }
            stored[field.rawValue] = .text(String(decoding: value, as: UTF8.self))
        }
        return record(digest, stored)
    }

    /// A string map (claims, response overrides) as stored: a JSON object with its keys sorted.
    static func encode(_ map: [String: String]) -> String {
        var writer = JSONWriter(capacity: 64)
        writer.beginObject()
        for key in map.keys.sorted() { writer.string(key, map[key]!) }
        writer.endObject()
        return writer.text
    }

    /// A stored string map, or nil unless it is a JSON object whose values are all strings.
    static func decode(_ text: String) -> [String: String]? {
        // No claims and no overrides, what every API-key link holds: read without a parse (no tree, no copy).
        if text.utf8.elementsEqual("{}".utf8) { return [:] }
        guard case .object(let members)? = try? JSONValue.parse(Array(text.utf8)) else { return nil }
        var out: [String: String] = [:]
        for (key, value) in members {
            guard case .string(let string) = value else { return nil }
            out[key] = string
        }
        return out
    }
}
