internal import CHiredis

extension RedisReply {
    /// Copies a hiredis reply (valid only during its callback) into a `RedisReply`, checking `Limits` as it goes so
    /// that an over-limit reply is never copied whole.
    static func converting(_ reply: UnsafePointer<redisReply>) -> Result<RedisReply, RedisError> {
        do throws(RedisError) {
            return .success(try convert(reply, depth: 1))
        } catch {
            return .failure(error)
        }
    }

    private static func convert(_ reply: UnsafePointer<redisReply>, depth: Int) throws(RedisError) -> RedisReply {
        let value = reply.pointee
        switch value.type {
        case REDIS_REPLY_STRING:
            guard value.len <= Limits.maxBulkBytes else { throw .tooLarge }
            return .string(bytes(value.str, value.len))
        case REDIS_REPLY_STATUS, REDIS_REPLY_ERROR:
            guard value.len <= Limits.maxBulkBytes else { throw .tooLarge }
            let text = String(decoding: bytes(value.str, value.len), as: UTF8.self)
            return value.type == REDIS_REPLY_STATUS ? .status(text) : .error(text)
        case REDIS_REPLY_INTEGER:
            return .integer(Int64(value.integer))
        case REDIS_REPLY_NIL:
            return .null
        case REDIS_REPLY_ARRAY:
            guard depth <= Limits.maxDepth, value.elements <= Limits.maxElements else { throw .tooLarge }
            var elements: [RedisReply] = []
            elements.reserveCapacity(value.elements)
            for index in 0..<value.elements {
                guard let element = value.element?[index] else { throw .protocolError("array element missing") }
                elements.append(try convert(element, depth: depth + 1))
            }
            return .array(elements)
        default:
            throw .protocolError("unknown reply type \(value.type)")
        }
    }

    private static func bytes(_ pointer: UnsafeMutablePointer<CChar>?, _ count: Int) -> [UInt8] {
        guard let pointer, count > 0 else { return [] }
        return Array(UnsafeRawBufferPointer(start: pointer, count: count))
    }
}
