import S3Signing

/// Calls whose answer is an XML document, read as the bytes arrive: each piece curl hands over goes through the
/// bounded `S3XML.Reader` at once, so a document over a bound (elements, depth, text, names, attributes, markup)
/// ends the transfer there, the loop never holds more than the piece being read plus the fields kept, and no
/// parse of a whole body ever runs in one go on the loop.
extension S3fmAuthConnection {
    /// Sends `call` and reads its answer with `schema`: the root element (the kept tree), and the raw body too when
    /// `keepBody` (buffered up to `maxBufferedBody`, for the admin routes that pass a document on). A document over
    /// a bound, or a body over `maxBufferedBody`, fails as `.badResponse` as soon as it crosses it.
    func readXML(
        _ call: Call, body: [UInt8]? = nil, now: SigningTime, schema: S3XML.Schema, keepBody: Bool = false,
        completion: @escaping (Result<(root: S3XML.Element, body: [UInt8]), S3Error>) -> Void
    ) {
        var reader = S3XML.Reader(schema: schema)
        var received = 0
        var sinceYield = 0
        var kept: [UInt8] = []
        var running: S3Transfer?
        running = start(
            call, upload: body.map(Upload.bytes), now: now,
            onHead: { _ in },
            onBody: { bytes in
                // After `yieldBytes` read, give the loop a turn: curl keeps this piece and hands it back once
                // resumed, on the loop's next turn, after the other connections' work.
                if sinceYield >= Self.yieldBytes, let running {
                    sinceYield = 0
                    running.control.resumeNextTurn()
                    return .pause
                }
                sinceYield += bytes.count
                received += bytes.count
                guard received <= Self.maxBufferedBody else {
                    kept = []
                    return .abort(.badResponse("response over \(Self.maxBufferedBody) bytes"))
                }
                if keepBody { kept.append(contentsOf: bytes) }
                do throws(S3XML.ParseError) {
                    try reader.append(bytes)
                } catch {
                    return .abort(.badResponse(error.message))
                }
                return .accept
            },
            completion: { result in
                switch result {
                case .success:
                    do throws(S3XML.ParseError) {
                        completion(.success((try reader.finish(), kept)))
                    } catch {
                        completion(.failure(.badResponse(error.message)))
                    }
                case .failure(let error):
                    completion(.failure(error))
                }
            })
    }

    /// How much of a document is read in one turn of the loop before it lets other work run.
    static let yieldBytes = 64 * 1024

    /// Sends `call` and reads its answer as a `D`.
    func document<D: S3XMLDocument>(
        _ call: Call, body: [UInt8]? = nil, now: SigningTime, as type: D.Type = D.self,
        completion: @escaping (Result<D, S3Error>) -> Void
    ) {
        readXML(call, body: body, now: now, schema: D.schema) { result in
            completion(result.flatMap { read in Self.make(D.self, read.root) })
        }
    }

    /// Sends `call` and reads its answer as a `D`, with the raw body.
    func documentAndBody<D: S3XMLDocument>(
        _ call: Call, now: SigningTime, as type: D.Type, completion: @escaping (Result<(D, [UInt8]), S3Error>) -> Void
    ) {
        readXML(call, now: now, schema: D.schema, keepBody: true) { result in
            completion(result.flatMap { read in Self.make(D.self, read.root).map { ($0, read.body) } })
        }
    }

    static func make<D: S3XMLDocument>(_ type: D.Type, _ root: S3XML.Element) -> Result<D, S3Error> {
        do throws(S3XML.ParseError) {
            return .success(try D(root: root))
        } catch {
            return .failure(.badResponse(error.message))
        }
    }
}
