import PresignConfig
import Foundation

/// The OpenAPI 3.1 description served at `GET /openapi.yaml`. The file lives in this target's resources;
/// the repository's top-level `openapi.yaml` is a link to it, so there is one copy.
public enum OpenAPIDocument {
    public static let yaml: String = {
        guard let url = Bundle.module.url(forResource: "openapi", withExtension: "yaml"),
            let data = try? Data(contentsOf: url)
        else { return "openapi: 3.1.0\ninfo: {title: presignd, version: unknown}\npaths: {}\n" }
        return String(decoding: data, as: UTF8.self)
    }()
}

/// The browser upload demo (`examples/browser-upload/index.html`), served at `GET /demo` by the dev profile only.
public enum DemoPage {
    public static let html: [UInt8] = {
        guard let url = Bundle.module.url(forResource: "demo", withExtension: "html"), let data = try? Data(contentsOf: url) else {
            return Array("<!doctype html><p>demo page missing from the build</p>".utf8)
        }
        return Array(data)
    }()
}
