"""A JWT issuer for the tests, shared by test_jwks and test_late_answers_*: EC P-256 keys signing ES256 in pure Python
(the test venv has no crypto library), tokens with random unknown kids, and a JWKS server on loopback that counts
its hits and can be down, slow, huge or garbage."""
import hashlib
import json
import os
import secrets
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from harness.config import b64url
from harness.process import free_port

ISSUER = "https://id.test/"

# NIST P-256.
P = 0xFFFFFFFF00000001000000000000000000000000FFFFFFFFFFFFFFFFFFFFFFFF
N = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
G = (0x6B17D1F2E12C4247F8BCE6E563A440F277037D812DEB33A0F4A13945D898C296,
     0x4FE342E2FE1A7F9B8EE7EB4A7C0F9E162BCE33576B315ECECBB6406837BF51F5)


def _add(p, q):
    if p is None:
        return q
    if q is None:
        return p
    if p[0] == q[0] and (p[1] + q[1]) % P == 0:
        return None
    if p == q:
        m = (3 * p[0] * p[0] - 3) * pow(2 * p[1], -1, P) % P
    else:
        m = (q[1] - p[1]) * pow(q[0] - p[0], -1, P) % P
    x = (m * m - p[0] - q[0]) % P
    return x, (m * (p[0] - x) - p[1]) % P


def _mul(k, point):
    out = None
    while k:
        if k & 1:
            out = _add(out, point)
        point = _add(point, point)
        k >>= 1
    return out


class ECKey:
    def __init__(self, kid):
        self.kid = kid
        self.d = secrets.randbelow(N - 1) + 1
        self.q = _mul(self.d, G)

    def jwk(self):
        return {"kty": "EC", "crv": "P-256", "kid": self.kid, "alg": "ES256", "use": "sig",
                "x": b64url(self.q[0].to_bytes(32, "big")), "y": b64url(self.q[1].to_bytes(32, "big"))}

    def sign(self, message):
        z = int.from_bytes(hashlib.sha256(message).digest(), "big")
        while True:
            k = secrets.randbelow(N - 1) + 1
            r = _mul(k, G)[0] % N
            s = pow(k, -1, N) * (z + r * self.d) % N
            if r and s:
                return r.to_bytes(32, "big") + s.to_bytes(32, "big")

    def token(self, sub="alice", kid=None, ttl=300):
        header = b64url(json.dumps({"alg": "ES256", "typ": "JWT", "kid": kid or self.kid}).encode())
        payload = b64url(json.dumps({"iss": ISSUER, "aud": "app", "sub": sub, "exp": int(time.time()) + ttl}).encode())
        signature = self.sign(f"{header}.{payload}".encode())
        return f"{header}.{payload}.{b64url(signature)}"


def random_kid_token():
    """A token naming a random kid: presignd looks the kid up before it checks the signature, so any will do."""
    header = b64url(json.dumps({"alg": "ES256", "typ": "JWT", "kid": secrets.token_hex(8)}).encode())
    payload = b64url(json.dumps({"iss": ISSUER, "aud": "app", "sub": "mallory", "exp": int(time.time()) + 300}).encode())
    return f"{header}.{payload}.{b64url(os.urandom(64))}"


class JWKSServer:
    """Serves one JWKS per path; each path has a mode (ok, big, garbage, slow) and a hit count."""

    def __init__(self, port=None):
        self.port = port or free_port()
        self.lock = threading.Lock()
        self.documents = {}
        self.modes = {}
        self.hits = {}
        self.httpd = None

    def set(self, path, keys=None, mode="ok"):
        with self.lock:
            if keys is not None:
                self.documents[path] = json.dumps({"keys": [k.jwk() for k in keys]}).encode()
            self.modes[path] = mode
            self.hits.setdefault(path, 0)

    def count(self, path):
        with self.lock:
            return self.hits.get(path, 0)

    def start(self):
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                with server.lock:
                    server.hits[self.path] = server.hits.get(self.path, 0) + 1
                    mode = server.modes.get(self.path)
                    document = server.documents.get(self.path)
                try:
                    if mode is None:
                        self.send_response(404)
                        self.send_header("Content-Length", "0")
                        self.end_headers()
                    elif mode == "big":
                        body = b'{"keys":[' + b" " * (5 << 20) + b"]}"
                        self.send_response(200)
                        self.send_header("Content-Type", "application/json")
                        self.send_header("Content-Length", str(len(body)))
                        self.end_headers()
                        self.wfile.write(body)
                    elif mode == "garbage":
                        body = os.urandom(2000)
                        self.send_response(200)
                        self.send_header("Content-Length", str(len(body)))
                        self.end_headers()
                        self.wfile.write(body)
                    else:
                        if mode == "slow":
                            time.sleep(10)
                        self.send_response(200)
                        self.send_header("Content-Type", "application/json")
                        self.send_header("Cache-Control", "public, max-age=3600")
                        self.send_header("Content-Length", str(len(document)))
                        self.end_headers()
                        self.wfile.write(document)
                except (BrokenPipeError, ConnectionResetError):
                    pass

        ThreadingHTTPServer.daemon_threads = True
        self.httpd = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        return self

    def stop(self):
        if self.httpd:
            self.httpd.shutdown()
            self.httpd.server_close()

    def url(self, path):
        return f"http://127.0.0.1:{self.port}{path}"
