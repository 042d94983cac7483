import ShareLinks
import UVLoop

/// An in-memory `LinkStore` with the stores' semantics (the live cap, use counting, revocation) that answers on a
/// later turn of the asking loop, as Redis or SQLite's thread does. It can be told to fail every call (Redis down:
/// `failure`) or to lie (`lie`: what a fetch answers instead of the stored record). It keeps a log of its calls.
/// `@unchecked Sendable`: touched only on the thread that drives the test's `DrivenLoop`.
final class FakeLinkStore: LinkStore, @unchecked Sendable {
    var records: [[UInt8]: LinkRecord] = [:]
    var failure: LinkStoreError?
    var lie: ((LinkRecord) -> LinkRecord)?
    var log: [String] = []
    var label: String { "fake links" }

    static let noLoop = LinkStoreError.unavailable("fake: no loop")

    /// Answers `result()` later on `loop`, or at once without one; the store's state changes when the call is
    /// served, as on the server.
    private func answer<T>(_ call: String, _ loop: EventLoop?, _ done: @escaping (Result<T, LinkStoreError>) -> Void, _ result: () -> T) {
        log.append(call)
        guard let loop else { return done(.failure(Self.noLoop)) }
        let outcome: Result<T, LinkStoreError> = failure.map { .failure($0) } ?? .success(result())
        Driven.later(on: loop) { done(outcome) }
    }

    func create(_ record: LinkRecord, worker: Int, loop: EventLoop?, _ done: @escaping (Result<Void, LinkStoreError>) -> Void) {
        answer("create", loop, done) { records[record.digest] = record }
    }

    func create(_ record: LinkRecord, maxLive: Int, worker: Int, loop: EventLoop?, _ done: @escaping (Result<LinkCreation, LinkStoreError>) -> Void) {
        answer("create", loop, done) {
            let live = records.values.filter {
                $0.caller == record.caller && !$0.revoked && $0.expiresAt > record.createdAt && $0.uses < ($0.maxUses ?? .max)
            }
            guard live.count < maxLive else { return .tooMany }
            records[record.digest] = record
            return .created
        }
    }

    func fetch(_ digest: [UInt8], worker: Int, loop: EventLoop?, _ done: @escaping (Result<LinkRecord?, LinkStoreError>) -> Void) {
        answer("fetch", loop, done) { records[digest].map { lie?($0) ?? $0 } }
    }

    func use(_ digest: [UInt8], now: Int64, worker: Int, loop: EventLoop?, _ done: @escaping (Result<LinkUse, LinkStoreError>) -> Void) {
        answer("use", loop, done) {
            guard var record = records[digest] else { return .unknown }
            if let gone = record.gone(at: now) { return .gone(gone) }
            record.uses += 1
            records[digest] = record
            return .used(record.uses)
        }
    }

    func revoke(_ digest: [UInt8], worker: Int, loop: EventLoop?, _ done: @escaping (Result<Bool, LinkStoreError>) -> Void) {
        answer("revoke", loop, done) {
            guard records[digest] != nil else { return false }
            records[digest]?.revoked = true
            return true
        }
    }
}
