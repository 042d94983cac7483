import S3Client

/// What `POST /v1/uploads/{upload}/complete` may do, decided from S3's own listing of the upload and the parts the
/// client names: a pure function, so every case is a unit test.
///
/// - Every named part must be listed by S3 with the ETag named (compared without the quotes S3 puts around it);
///   its size is the listed one. A part S3 does not list (a PUT still running when presignd listed, a wrong ETag)
///   is refused, never counted as 0 bytes: completing it would store bytes nobody counted.
/// - A part number listed several times (a retried PUT: SeaweedFS keeps every version until the complete) counts
///   the entry whose ETag is the one named, since that is the version S3 stores; the same ETag listed twice (the
///   same bytes sent twice) counts its largest size.
/// - The total is then held to the limits, the rule's `max_content_length` first, then the `content_length`
///   declared at create. After S3 completes, the stored object's size (HEAD) is held to the same limits.
enum CompletePlan {
    /// One size bound and its name as the answers say it.
    struct Limit: Equatable {
        var name: String
        var value: Int64
    }

    enum Decision: Equatable {
        /// Complete with these parts; `total` (the sum of their listed sizes) goes as `x-amz-mp-object-size`.
        case complete(total: Int64)
        /// The lowest named part with no listed entry for its ETag; `listed` when S3 lists that number with other
        /// ETags only.
        case notUploaded(part: Int, listed: Bool)
        /// The listed total is over `limit`: abort the upload.
        case overLimit(total: Int64, limit: Limit)
    }

    /// The bounds that apply, the rule's first.
    static func limits(rule: Int64?, declared: Int64?) -> [Limit] {
        var out: [Limit] = []
        if let rule { out.append(Limit(name: "max_content_length", value: rule)) }
        if let declared { out.append(Limit(name: "content_length", value: declared)) }
        return out
    }

    /// The first of `limits` that `size` is over, if any.
    static func exceeded(_ size: Int64, _ limits: [Limit]) -> Limit? {
        limits.first { size > $0.value }
    }

    /// The decision for `named` (the parts the client names, each number once) against `listed` (S3's ListParts
    /// entries, every page, duplicates kept).
    static func decide(listed: [MultipartPart], named: [CompleteUploadRequest.Part], limits: [Limit]) -> Decision {
        // The listed sizes by part number and bare ETag; a number seen at all, for the message.
        var sizes: [Int: [Substring: Int64]] = [:]
        for entry in listed {
            let etag = bare(entry.etag)
            sizes[entry.number, default: [:]][etag] = max(sizes[entry.number]?[etag] ?? 0, entry.size)
        }
        var total: Int64 = 0
        for part in named.sorted(by: { $0.number < $1.number }) {
            guard let size = sizes[part.number]?[bare(part.etag)] else {
                return .notUploaded(part: part.number, listed: sizes[part.number] != nil)
            }
            // At most 10,000 parts of at most 5 TiB each: no overflow, but saturate rather than trap on a lie.
            total = total.addingReportingOverflow(size).overflow ? .max : total + size
        }
        if let limit = exceeded(total, limits) { return .overLimit(total: total, limit: limit) }
        return .complete(total: total)
    }

    /// An ETag without the double quotes S3 wraps it in (`"abc"` and `abc` are the same ETag).
    static func bare(_ etag: String) -> Substring {
        var text = Substring(etag)
        if text.count >= 2, text.first == "\"", text.last == "\"" { text = text.dropFirst().dropLast() }
        return text
    }

    /// The object's size from a HEAD answer: `Content-Length` as 1-19 plain decimal digits, or nil.
    static func storedSize(_ contentLength: String?) -> Int64? {
        guard let text = contentLength, (1...19).contains(text.utf8.count),
            text.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") })
        else { return nil }
        return Int64(text)
    }
}
