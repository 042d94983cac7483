import Foundation
internal import CUV
import JSONKit

/// Closing after the answer: FIN first, then what the client still sends is read and discarded for a while.
extension Connection {
    /// The answer is out: send FIN, then discard what the client still sends (see `lingerMillis`).
    func linger() {
        guard !closing, lingerUntil == nil else { return }
        lingerUntil = uv_now(worker.loop) + Self.lingerMillis
        let lost = context
        context = nil
        lost?.connectionLost()
        let request = UnsafeMutablePointer<uv_shutdown_t>.allocate(capacity: 1)
        // The request keeps the connection alive until libuv is done with it (ECANCELED if the handle closes first).
        request.pointee.data = Unmanaged.passRetained(self).toOpaque()
        let rc = uv_shutdown(request, stream) { request, status in
            let connection = Unmanaged<Connection>.fromOpaque(request!.pointee.data).takeRetainedValue()
            request!.deallocate()
            if status != 0 { connection.close() }
        }
        guard rc == 0 else {
            Unmanaged<Connection>.fromOpaque(request.pointee.data).release()
            request.deallocate()
            close()
            return
        }
        uv_read_start(
            stream,
            Connection.lendReadBuffer,
            { stream, count, _ in
                let connection = Connection.from(stream!.pointee.data)
                guard count >= 0 else { return connection.close() }  // the client closed too (or reset)
                connection.lingeredBytes += count
                if connection.lingeredBytes > Connection.lingerBytes { connection.close() }
            })
    }
}
