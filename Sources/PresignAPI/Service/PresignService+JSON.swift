import Foundation
import HTTPServer
import JSONKit
import Logging
import PresignConfig
import S3Signing
import PresignCore

/// Request bodies in, error bodies out.
extension PresignService {
    /// A JSON body's bytes, for a decoder that reads them itself (`Intent.presign`, `.batch`, `.link`, `.upload`).
    static func jsonBody(_ request: HTTPRequest) -> Result<[UInt8], APIError> {
        if let type = request.head.header(.contentType), !isJSONMediaType(type) {
            return .failure(APIError(.unsupportedMediaType, "Content-Type must be application/json"))
        }
        guard !request.body.isEmpty else { return .failure(.invalid("body", "a JSON object is required")) }
        return .success(request.body)
    }

    /// A JSON body as a tree (the upload parts and complete bodies).
    static func parseJSON(_ request: HTTPRequest) -> Result<JSONValue, APIError> {
        if case .failure(let error) = jsonBody(request) { return .failure(error) }
        do throws(JSONValue.ParseError) { return .success(try JSONValue.parse(request.body)) } catch { return .failure(JSONMembers.notJSON(error)) }
    }

    /// `application/json`, any case, optionally with parameters (`; charset=utf-8`).
    static func isJSONMediaType(_ type: String) -> Bool {
        let expected = Array("application/json".utf8)
        var index = 0
        for byte in type.utf8 {
            if index < expected.count {
                let lower = byte >= 0x41 && byte <= 0x5A ? byte + 32 : byte
                guard lower == expected[index] else { return false }
                index += 1
            } else {
                return byte == UInt8(ascii: ";") || byte == UInt8(ascii: " ")
            }
        }
        return index == expected.count
    }

    /// A batch item's failure: `{"error":{…},"status":N}`, through the server's one error-object writer.
    static func errorItem(_ error: APIError, into writer: inout JSONWriter) {
        writer.beginObject()
        writer.key("error")
        HTTPResponse.writeError(into: &writer, code: error.codeName, message: error.message, field: error.field)
        writer.integer("status", error.status)
        writer.endObject()
    }

    static func response(_ error: APIError) -> HTTPResponse { HTTPResponse(error: error) }
}
