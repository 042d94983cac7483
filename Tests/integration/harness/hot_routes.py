"""The six hot routes, one definition shared by `make bench-instructions` (scripts/bench_instructions.py: callgrind
instructions and allocations per request) and the allocation test (test_allocations.py: allocations per request
held in CI): the same config (deploy/bench/presignd-instructions.yaml), the same secrets and the same requests."""
import base64
import hashlib
import hmac
import json
import os
import time

from harness.config import hs256_jwt

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
CONFIG = os.path.join(ROOT, "deploy", "bench", "presignd-instructions.yaml")
ENV = {"BENCH_S3_ACCESS": "AKIDBENCH", "BENCH_S3_SECRET": "bench-secret-0123456789",
       "BENCH_JWT_SECRET": "bench-jwt-secret-0123456789abcdef0123456789",
       "BENCH_UPLOAD_SECRET": "bench-upload-token-secret-0123456789abcdef", "SWIFT_BACKTRACE": "enable=no"}
CONFIG_PORT = 18190
CONFIG_SQLITE = "/tmp/presignd-instructions-links.sqlite"


def config_text(port=CONFIG_PORT, sqlite_path=CONFIG_SQLITE):
    """The bench config, listening on `port` with its link store at `sqlite_path`."""
    with open(CONFIG) as f:
        text = f.read()
    return text.replace(f"127.0.0.1:{CONFIG_PORT}", f"127.0.0.1:{port}").replace(CONFIG_SQLITE, sqlite_path)


def _b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def jwt_token():
    now = int(time.time())
    claims = {"iss": "https://bench.example.com", "aud": "bench", "sub": "42", "exp": now + 3600, "nbf": now - 10}
    return hs256_jwt(claims, ENV["BENCH_JWT_SECRET"])


def upload_token():
    """An upload handle sealed the way presignd seals it (UploadToken.swift), so no S3 call is needed."""
    payload = json.dumps({"c": "bench", "b": "main", "k": "uploads", "o": "users/42/big.bin", "u": "bench-upload-id",
                          "t": "image/png", "e": int(time.time()) + 3600}, separators=(",", ":")).encode()
    text = _b64url(payload)
    mac = hmac.new(ENV["BENCH_UPLOAD_SECRET"].encode(), b"presignd-upload-v1." + text.encode(), hashlib.sha256).digest()
    return text + "." + _b64url(mac)


PRESIGN = json.dumps({"operation": "put", "bucket": "uploads", "key": "users/42/photo.png", "expires_in": 600,
                      "content_type": "image/png"})
KEY = {"Authorization": "Bearer bench-key", "Content-Type": "application/json"}


def routes(connection):
    """[(name, (method, path, body, headers, expected status))] for the six routes; `connection` (an
    http.client.HTTPConnection to the server) makes the share link the redirect row uses."""
    connection.request("POST", "/v1/links", body=json.dumps({"bucket": "uploads", "key": "users/42/photo.png"}),
                       headers=KEY)
    answer = connection.getresponse()
    made = answer.read()
    assert answer.status == 201, made
    link = json.loads(made)["id"]
    jwt = {"Authorization": "Bearer " + jwt_token(), "Content-Type": "application/json"}
    batch = json.dumps({"requests": [json.loads(PRESIGN)] * 10})
    parts = json.dumps({"parts": [{"number": n} for n in range(1, 11)]})
    return [
        ("GET /healthz", ("GET", "/healthz", None, {}, 200)),
        ("POST /v1/presign (API key)", ("POST", "/v1/presign", PRESIGN, KEY, 200)),
        ("POST /v1/presign (HS256 JWT, same token)", ("POST", "/v1/presign", PRESIGN, jwt, 200)),
        ("POST /v1/presign/batch (10 items)", ("POST", "/v1/presign/batch", batch, KEY, 200)),
        ("GET /l/{id} (share link redirect)", ("GET", "/l/" + link, None, {}, 302)),
        ("POST /v1/uploads/{upload}/parts (10 parts)", ("POST", f"/v1/uploads/{upload_token()}/parts", parts, KEY, 200)),
    ]


def send(connection, request, count):
    """`count` times `request` on the keep-alive `connection`, each answer checked for its status."""
    method, path, body, headers, expect = request
    for _ in range(count):
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        data = response.read()
        assert response.status == expect, f"{method} {path}: {response.status} {data[:300]!r}"
