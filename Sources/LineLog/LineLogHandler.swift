import JSONKit
import Logging

/// swift-log's handler for `presignd serve`: each record is one line on a `LineOutput`, in the stream its
/// logger's label names (`LogStream(label:)`). Access-log and audit records are already JSON and go as they are;
/// any other record is wrapped as `{"level":…,"message":…}` with its metadata, keys sorted.
public struct LineLogHandler: LogHandler {
    public let label: String
    let stream: LogStream
    let output: LineOutput
    public var logLevel: Logger.Level = .info
    public var metadata: Logger.Metadata = [:]

    public init(label: String, output: LineOutput) {
        self.label = label
        self.stream = LogStream(label: label)
        self.output = output
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        let text = event.message.description
        if Self.isOneLineJSON(text) {
            output.append(text.utf8, stream: stream)
        } else {
            output.append(Self.wrapped(text, level: event.level, metadata: metadata.merging(event.metadata ?? [:]) { $1 }), stream: stream)
        }
    }

    /// Access-log and audit records: a JSON object on one line, written as it is.
    static func isOneLineJSON(_ text: String) -> Bool { text.hasPrefix("{") && !text.utf8.contains(0x0A) }

    /// Any other record as a JSON line (no newline): level, message and metadata, keys sorted.
    static func wrapped(_ text: String, level: Logger.Level, metadata: Logger.Metadata) -> [UInt8] {
        var fields: [String: String] = ["level": "\(level)", "message": text]
        for (key, value) in metadata { fields[key] = "\(value)" }
        var out = JSONWriter(capacity: 128)
        out.beginObject()
        for key in fields.keys.sorted() { out.string(key, fields[key]!) }
        out.endObject()
        return out.bytes
    }
}
