"""Answers that come after the client left, shared by test_late_answers_routes and test_late_answers_clients: peers
that hold their answers behind a `Gate` (Redis behind a `GatedProxy`, a `FakePeer` S3 and JWKS server), presignd
with one worker against them (`Service`), the `stack` fixture, and how a client leaves (`leave`)."""
import json
import socket
import struct
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from harness.config import PresigndConfig, api_key_sha256, backend
from harness.jwks import ISSUER as JWKS_ISSUER
from harness.process import ServeProcess, free_port
from harness.redis_server import RedisServer

KEY = "late-key-" + uuid.uuid4().hex
ADMIN = "late-admin-" + uuid.uuid4().hex
TOKEN_SECRET = "late-upload-token-secret-" + uuid.uuid4().hex


class Gate:
    """Holds a peer's answers while `held`; `seen` is set when the peer got a request while held."""

    def __init__(self):
        self.open = threading.Event()
        self.open.set()
        self.seen = threading.Event()

    def hold(self):
        self.seen.clear()
        self.open.clear()

    def release(self):
        self.open.set()

    @property
    def held(self):
        return not self.open.is_set()


class GatedProxy:
    """A TCP proxy to a real redis-server. While its gate is held, what presignd sends still reaches Redis, but
    Redis's replies wait in the proxy until `release()`: presignd's command is pending exactly as long as the test
    wants."""

    def __init__(self, upstream_port):
        self.upstream = upstream_port
        self.gate = Gate()
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.stopped = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while not self.stopped:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.upstream))
            threading.Thread(target=self._pump, args=(client, upstream, False), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client, True), daemon=True).start()

    def _pump(self, source, sink, replies):
        try:
            while True:
                data = source.recv(65536)
                if not data:
                    break
                if replies:
                    self.gate.open.wait()
                elif self.gate.held:
                    self.gate.seen.set()
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for s in (source, sink):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def close(self):
        self.stopped = True
        self.gate.release()
        self.listener.close()


class FakePeer:
    """A loopback HTTP server standing in for S3 (any path) and a JWKS endpoint (/jwks): while its gate is held, a
    request waits for `release()`, then gets a small well-formed answer."""

    LIST = (b'<?xml version="1.0" encoding="UTF-8"?><ListAllMyBucketsResult><Owner><ID>o</ID></Owner>'
            b"<Buckets><Bucket><Name>b</Name><CreationDate>2026-01-01T00:00:00.000Z</CreationDate></Bucket>"
            b"</Buckets></ListAllMyBucketsResult>")

    BIG = bytes(range(256)) * (256 * 1024)  # 64 MiB

    def __init__(self):
        self.gate = Gate()
        self.hits = 0
        peer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def answer(self):
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(length)
                peer.hits += 1
                if peer.gate.held:
                    peer.gate.seen.set()
                peer.gate.open.wait()
                if self.path.startswith("/jwks"):
                    body, kind = b'{"keys":[]}', "application/json"
                elif self.command == "GET" and self.path.split("?")[0] == "/":
                    body, kind = FakePeer.LIST, "application/xml"
                elif self.command == "GET" and self.path.split("?")[0].endswith("/big"):
                    body, kind = FakePeer.BIG, "application/octet-stream"
                else:
                    body, kind = b"", "application/xml"
                self.send_response(200)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("ETag", '"0123456789abcdef0123456789abcdef"')
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = answer

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.gate.release()
        self.server.shutdown()
        self.server.server_close()


def config(redis_port, s3_port, public_port):
    return {
        "audit_log": False,
        "backends": {"main": backend(f"http://127.0.0.1:{s3_port}", "L_ACCESS", "L_SECRET", request_timeout=30)},
        "callers": [
            {"name": "late", "auth": {"api_key_sha256": api_key_sha256(KEY)}, "rate_limit": {"per_second": 100000, "burst": 100000},
             "rules": [{"operations": ["get", "put", "share_link"], "bucket": "b", "key": "k/*", "max_expires_in": 86400}]},
            {"name": "remote", "auth": {"jwt": {"issuer": JWKS_ISSUER, "audience": "app", "jwks_url": f"http://127.0.0.1:{s3_port}/jwks"}},
             "rules": [{"operations": ["get"], "bucket": "b", "key": "k/*", "max_expires_in": 600}]},
        ],
        "admin": {"token_sha256": [api_key_sha256(ADMIN)]},
        "uploads": {"token_secret_env": "L_TOKEN"},
        "state": {"redis": {"url": f"redis://127.0.0.1:{redis_port}/0", "command_timeout_ms": 10000}, "on_error": "deny"},
        "links": {"public_base_url": f"http://127.0.0.1:{public_port}", "url_ttl": 60},
    }


class Service(ServeProcess):
    def __init__(self, redis_port, s3_port):
        self.port = free_port()
        self.admin_port = free_port()
        self.config = PresigndConfig(config(redis_port, s3_port, self.port), prefix="presignd-late-").path
        super().__init__(
            ["--config", self.config, "--listen", f"127.0.0.1:{self.port}", "--workers", "1",
             "--admin-listen", f"127.0.0.1:{self.admin_port}", "--access-log", "off"], self.port,
            env=dict(L_ACCESS="AKIDLATE", L_SECRET="late-s3-secret", L_TOKEN=TOKEN_SECRET), prefix="presignd-late-")

    def dropped(self, route):
        return self.metric("presignd_late_answers_dropped_total", route=route)

PRESIGN = {"operation": "get", "bucket": "b", "key": "k/x", "expires_in": 60}


def leave(sock, how):
    if how == "reset":
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.close()
    elif how == "half-close":
        sock.shutdown(socket.SHUT_WR)
        sock.close()
    else:
        sock.close()


@pytest.fixture
def stack():
    redis = RedisServer().start()
    proxy = GatedProxy(redis.port)
    peer = FakePeer()
    service = Service(proxy.port, peer.port)
    try:
        yield service, proxy, peer, redis
    finally:
        proxy.gate.release()
        peer.gate.release()
        try:
            service.stop()
        finally:
            proxy.close()
            peer.close()
            redis.kill()


def served(service):
    """Another client is served in full, with the exact answer shape."""
    status, _, raw = service.request("POST", "/v1/presign", PRESIGN, bearer=KEY)
    body = json.loads(raw)
    assert status == 200, body
    assert body["method"] == "GET" and body["url"].startswith(f"http://127.0.0.1:") and "/b/k/x?" in body["url"]
