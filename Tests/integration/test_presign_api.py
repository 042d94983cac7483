"""`presignd serve --config` end to end against SeaweedFS: URLs obtained over HTTP with an API key and with a JWT are
used for real uploads and downloads; denials, rate limits, CORS, batches, SIGHUP reloads; no secret in the logs."""
import json
import os
import signal
import time
import uuid

import pytest

from conftest import (ACCESS, SECRET, PresigndConfig, ServeProcess, api_key_sha256, backend, free_port, hs256_jwt as signed_hs256,
                      request, wait_for)

API_KEY = "e2e-api-key-" + uuid.uuid4().hex
HS_SECRET = "e2e-hs256-secret-" + uuid.uuid4().hex
ISSUER = "https://auth.test"


def hs256_jwt(claims, secret=HS_SECRET):
    return signed_hs256(claims, secret)


def config(endpoint, bucket):
    return {
        "backends": {"main": backend(endpoint, "E2E_S3_ACCESS", "E2E_S3_SECRET")},
        "callers": [
            {"name": "batch", "auth": {"api_key_sha256": api_key_sha256(API_KEY)}, "rate_limit": {"per_second": 0.2, "burst": 6},
             "rules": [{"name": "objects", "operations": ["get", "put", "delete", "post_object"], "bucket": bucket, "key": "api/*",
                        "max_expires_in": 3600}]},
            {"name": "web", "auth": {"jwt": {"issuer": ISSUER, "audience": "uploads", "hs256_secret_env": "E2E_HS_SECRET"}},
             "rules": [{"name": "own-folder", "operations": ["put", "get", "post_object"], "bucket": bucket, "key": "users/${sub}/*",
                        "max_expires_in": 600, "content_types": ["image/*", "text/*"], "max_content_length": 100000}]},
        ],
        "cors": {"allowed_origins": ["https://app.example.com"], "max_age": 300},
    }


class Service(ServeProcess):
    def __init__(self, endpoint, bucket):
        self.port = free_port()
        self.settings = PresigndConfig(config(endpoint, bucket), prefix="presignd-e2e-")
        self.config = self.settings.path
        super().__init__(
            ["--config", self.config, "--listen", f"127.0.0.1:{self.port}", "--workers", "1", "--admin-listen", "off",
             "--access-log", "on"], self.port,
            env=dict(E2E_S3_ACCESS=ACCESS, E2E_S3_SECRET=SECRET, E2E_HS_SECRET=HS_SECRET), prefix="presignd-e2e-")

    def presign(self, body, token=API_KEY, path="/v1/presign", headers=None):
        status, response_headers, raw = self.request("POST", path, body, headers=headers, bearer=token, timeout=10)
        return status, response_headers, json.loads(raw)


@pytest.fixture(scope="module")
def service(seaweed, bucket):
    s = Service(seaweed, bucket)
    yield s
    s.stop()
    # Secrets never reach the logs: not the S3 secret, not the API key, not the HS256 secret, not a signature.
    text = s.output()
    for secret in (SECRET, API_KEY, HS_SECRET):
        assert secret not in text, "a secret appeared in presignd's output"
    assert "X-Amz-Signature" not in text and "x-amz-signature" not in text
    assert '"audit":"presign"' in text  # the log was captured and holds the audit lines


def test_put_and_get_with_an_api_key_round_trip_exact_bytes(service, bucket, s3):
    payload = os.urandom(3000) + b"\x00end"
    key = "api/report 2026+q3/data=1.bin"
    status, _, put = service.presign({"operation": "put", "bucket": bucket, "key": key, "expires_in": 300,
                                      "content_type": "application/octet-stream", "content_length": len(payload)})
    assert status == 200 and put["method"] == "PUT" and put["signature_version"] == "v4"
    assert put["headers"] == {"Content-Type": "application/octet-stream", "Content-Length": str(len(payload))}
    assert request("PUT", put["url"], payload, put["headers"])[0] == 200
    assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == payload
    status, _, get = service.presign({"operation": "get", "bucket": bucket, "key": key})
    assert status == 200
    status, _, got = request("GET", get["url"])
    assert (status, got) == (200, payload)
    # The signed Content-Length binds the upload size: a longer body under the same URL is refused.
    assert request("PUT", put["url"], payload + b"x", {"Content-Type": "application/octet-stream"})[0] == 403


def test_put_and_get_with_a_jwt_inside_the_callers_folder(service, bucket, s3):
    token = hs256_jwt({"sub": "alice", "iss": ISSUER, "aud": "uploads", "exp": int(time.time()) + 300})
    key = "users/alice/notes.txt"
    body = b"hello from alice\n"
    status, _, put = service.presign({"operation": "put", "bucket": bucket, "key": key, "content_type": "text/plain",
                                      "content_length": len(body), "expires_in": 120}, token=token)
    assert status == 200, put
    assert request("PUT", put["url"], body, put["headers"])[0] == 200
    status, _, get = service.presign({"operation": "get", "bucket": bucket, "key": key}, token=token)
    status, _, got = request("GET", get["url"])
    assert (status, got) == (200, body)
    assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == body
    # Another user's folder, and an escape attempt, are denied by name.
    status, _, denied = service.presign({"operation": "get", "bucket": bucket, "key": "users/bob/notes.txt"}, token=token)
    assert status == 403
    assert denied == {"error": {"code": "PolicyDenied",
                                "message": "rule 1 'own-folder': key 'users/bob/notes.txt' does not match 'users/${sub}/*'"}}
    status, _, escape = service.presign({"operation": "get", "bucket": bucket, "key": "users/alice/../bob/x"}, token=token)
    assert (status, escape["error"]["message"]) == (403, "key contains a '..' segment")


def test_post_object_form_upload(service, bucket, s3):
    token = hs256_jwt({"sub": "carol", "iss": ISSUER, "aud": "uploads", "exp": int(time.time()) + 300})
    status, _, form = service.presign({"operation": "post_object", "bucket": bucket, "key": "users/carol/${filename}",
                                       "content_type": "image/png", "content_length_range": [1, 5000]}, token=token)
    assert status == 200 and form["method"] == "POST"
    content = b"\x89PNG\r\n\x1a\n" + os.urandom(200)
    boundary = "----presignd" + uuid.uuid4().hex
    parts = []
    for name, value in form["fields"].items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
    parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="pic.png"\r\n'
                 f"Content-Type: image/png\r\n\r\n".encode() + content + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    status, _, body = request("POST", form["url"], b"".join(parts), {"Content-Type": f"multipart/form-data; boundary={boundary}"})
    assert status in (200, 204), body
    assert s3.get_object(Bucket=bucket, Key="users/carol/pic.png")["Body"].read() == content


def test_denied_request_names_the_rule(service, bucket):
    status, _, body = service.presign({"operation": "get", "bucket": bucket, "key": "private/x"})
    assert status == 403
    assert body == {"error": {"code": "PolicyDenied", "message": "rule 1 'objects': key 'private/x' does not match 'api/*'"}}


def test_cors_preflight_allowed_and_denied(service):
    status, headers, _ = service.request("OPTIONS", "/v1/presign", headers={
        "Origin": "https://app.example.com", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization, content-type"})
    assert status == 204
    assert headers["Access-Control-Allow-Origin"] == "https://app.example.com"
    assert headers["Access-Control-Allow-Methods"] == "POST, OPTIONS"
    assert headers["Access-Control-Allow-Headers"] == "Authorization, Content-Type, X-Request-Id"
    assert headers["Access-Control-Max-Age"] == "300"
    status, headers, body = service.request("OPTIONS", "/v1/presign", headers={
        "Origin": "https://evil.example.com", "Access-Control-Request-Method": "POST"})
    assert status == 403 and "Access-Control-Allow-Origin" not in headers
    assert json.loads(body) == {"error": {"code": "CORSOriginDenied", "message": "origin https://evil.example.com is not allowed"}}


def test_batch_with_mixed_results(service, bucket):
    status, _, body = service.presign({"requests": [
        {"operation": "get", "bucket": bucket, "key": "api/a"},
        {"operation": "delete", "bucket": bucket, "key": "elsewhere/b"},
        {"operation": "put", "bucket": bucket, "key": "api/c", "backend": "cold"},
    ]}, path="/v1/presign/batch")
    assert status == 200
    results = body["results"]
    assert len(results) == 3 and results[0]["method"] == "GET" and results[0]["url"].startswith("http://127.0.0.1:")
    assert results[1] == {"error": {"code": "PolicyDenied", "message": "rule 1 'objects': key 'elsewhere/b' does not match 'api/*'"}, "status": 403}
    assert results[2] == {"error": {"code": "BackendNotFound", "message": "no backend named 'cold'", "field": "requests[2].backend"}, "status": 404}


def test_openapi_and_metrics_are_served(service):
    status, headers, body = service.request("GET", "/openapi.yaml")
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    with open(os.path.join(root, "openapi.yaml"), "rb") as f:
        assert (status, body) == (200, f.read())
    status, headers, body = service.request("GET", "/metrics")
    text = body.decode()
    assert status == 200 and headers["Content-Type"].startswith("text/plain")
    assert 'presignd_urls_issued_total{operation="put",backend="main"}' in text
    assert 'presignd_policy_denials_total{reason="key"}' in text


def test_zz_rate_limit_then_sighup(service, bucket):
    """Runs last in this module: it drains the API-key caller's bucket, then reloads the config."""
    codes = []
    for _ in range(12):
        status, headers, body = service.presign({"operation": "get", "bucket": bucket, "key": "api/r"})
        codes.append(status)
        if status == 429:
            assert headers["Retry-After"].isdigit() and int(headers["Retry-After"]) >= 1
            assert body["error"]["code"] == "RateLimited"
            break
    assert codes[-1] == 429 and all(c == 200 for c in codes[:-1])

    # A broken config on SIGHUP is refused and the old one keeps serving (the JWT caller still works).
    service.settings.write_text("backends: {main: {endpoint: 'not a url'}}\ncallers: []\n")
    service.proc.send_signal(signal.SIGHUP)
    token = hs256_jwt({"sub": "dave", "iss": ISSUER, "aud": "uploads", "exp": int(time.time()) + 300})
    wait_for(lambda: "config reload failed" in service.output(), 5, "the failed reload's log line")
    assert "config reload failed; keeping the previous config" in service.output()
    status, _, body = service.presign({"operation": "get", "bucket": bucket, "key": "users/dave/x"}, token=token)
    assert status == 200, body
    assert service.proc.poll() is None

    # A valid one is taken: here the API-key caller is gone, so its key is now unknown.
    taken = config("http://127.0.0.1:1", bucket)
    taken["callers"] = [caller for caller in taken["callers"] if caller["name"] != "batch"]
    service.settings.write(taken)
    service.proc.send_signal(signal.SIGHUP)
    wait_for(lambda: '"message":"config reloaded"' in service.output(), 5, "the reload's log line")
    status, _, body = service.presign({"operation": "get", "bucket": bucket, "key": "api/r"})
    assert (status, body["error"]["message"]) == (401, "unknown API key")
    status, _, body = service.presign({"operation": "get", "bucket": bucket, "key": "users/dave/x"}, token=token)
    assert status == 200 and body["url"].startswith("http://127.0.0.1:1/")
