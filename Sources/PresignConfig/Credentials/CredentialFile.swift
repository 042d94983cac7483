import Foundation
import JSONKit

/// Bounded reads of the files a credential source names: the credentials file, a token file. Blocking: run on the
/// loop's thread pool (`LoopWork`) or at config load, never on a loop.
public enum CredentialFile {
    /// At most `limit` bytes of `path`; a longer file is an error rather than a truncated read.
    public static func read(_ path: String, limit: Int = CredentialDocument.maxBytes) -> Result<[UInt8], CredentialDocument.ParseError> {
        guard let handle = FileHandle(forReadingAtPath: path) else { return .failure(.init("cannot open \(path)")) }
        defer { try? handle.close() }
        let data: Data
        do { data = try handle.read(upToCount: limit + 1) ?? Data() } catch {
            return .failure(.init("cannot read \(path): \(error.localizedDescription)"))
        }
        guard data.count <= limit else { return .failure(.init("\(path) is over \(limit) bytes")) }
        return .success(Array(data))
    }

    /// A token file (a projected service account token, an agent's authorization token): bounded, trimmed of
    /// surrounding whitespace, visible ASCII, not empty.
    public static func token(_ path: String, limit: Int = 16 * 1024) -> Result<String, CredentialDocument.ParseError> {
        switch read(path, limit: limit) {
        case .failure(let error): return .failure(error)
        case .success(let bytes):
            let slice = ASCII.trimmed(bytes[...])
            guard !slice.isEmpty else { return .failure(.init("token file \(path) is empty")) }
            guard slice.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else { return .failure(.init("token file \(path) is not visible ASCII")) }
            return .success(String(decoding: slice, as: UTF8.self))
        }
    }
}
