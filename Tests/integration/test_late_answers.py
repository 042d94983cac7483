"""Answers that come after the client left: every route of `presignd routes` (so a new route is covered by default)
is sent while its peer (Redis behind a gate, a fake S3, a fake JWKS server) holds its answer, the client leaves
(close, half-close, reset), and then the peer answers. The process survives, other clients are served, and
`presignd_late_answers_dropped_total{route}` counts exactly the answers that found their client gone.

Ordering, not timing: with one worker, a /healthz answered on a new connection after the client left means the
worker has read the departure (the socket's EOF or reset was ready before the new connection was even accepted);
only then are the peers let go."""
import json
import os
import random
import socket
import struct
import subprocess
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from conftest import PresigndConfig, RedisServer, ServeProcess, api_key_sha256, backend, free_port, presignd_binary, wait_for
from test_jwks import ISSUER as JWKS_ISSUER, random_kid_token

KEY = "late-key-" + uuid.uuid4().hex
ADMIN = "late-admin-" + uuid.uuid4().hex
TOKEN_SECRET = "late-upload-token-secret-" + uuid.uuid4().hex
SEED = int(os.environ.get("PRESIGND_LATE_SEED", "20261207"))


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


def routes(config):
    """`presignd routes --config FILE`: every (listener, method, path) serve answers."""
    out = subprocess.run([presignd_binary(), "routes", "--config", config], capture_output=True, text=True,
                         timeout=60, env=dict(os.environ, L_ACCESS="x", L_SECRET="x", L_TOKEN=TOKEN_SECRET))
    assert out.returncode == 0, out.stderr
    return [tuple(json.loads(line)[k] for k in ("listener", "method", "path")) for line in out.stdout.splitlines()]


LINK_ID = "A" * 32
# Streaming routes stop their transfer when the client leaves (`onConnectionLost`): no answer comes to drop.
CANCELLED = {("admin", "GET", "/admin/v1/buckets/{bucket}/objects/{key...}"),
             ("admin", "PUT", "/admin/v1/buckets/{bucket}/objects/{key...}")}
PRESIGN = {"operation": "get", "bucket": "b", "key": "k/x", "expires_in": 60}


def request_bytes(listener, method, pattern):
    """A request for any route: parameters filled in (`{bucket}` b, `{key...}` k/x, a well-formed link id, any other
    parameter x), the caller's or the admin's bearer, and a small JSON body for the methods that carry one."""
    path = (pattern.replace("{bucket}", "b").replace("{key...}", "k/x").replace("{id}", LINK_ID)
            .replace("{upload}", "x"))
    assert "{" not in path, f"no value for a parameter of {pattern}: teach request_bytes"
    bearer = ADMIN if listener == "admin" else KEY
    body = b""
    if method in ("POST", "PUT"):
        if pattern == "/v1/presign/batch":
            body = json.dumps({"requests": [PRESIGN]}).encode()
        elif pattern == "/v1/links":
            body = json.dumps({"bucket": "b", "key": "k/x", "expires_in": 600}).encode()
        elif listener == "public":
            body = json.dumps(PRESIGN).encode()
        else:
            body = b"x"
    head = (f"{method} {path} HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer {bearer}\r\n"
            f"Origin: https://app.example\r\nAccess-Control-Request-Method: POST\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n")
    return head.encode() + body


def leave(sock, how):
    if how == "reset":
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.close()
    elif how == "half-close":
        sock.shutdown(socket.SHUT_WR)
        sock.close()
    else:
        sock.close()


def read_answer(sock):
    sock.settimeout(30)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, f"connection closed before an answer: {data!r}"
        data += chunk
    return int(data.split(b" ", 2)[1])


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


def exchange(service, proxy, peer, listener, method, pattern, moment, how):
    """One request left at `moment` (`immediately` after sending, `during` the wait, `after` the answer); returns
    whether an answer was pending when the client left (a peer got the request while held)."""
    port = service.admin_port if listener == "admin" else service.port
    before = service.dropped(pattern)
    hold = moment != "after"
    if hold:
        proxy.gate.hold()
        peer.gate.hold()
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    sock.sendall(request_bytes(listener, method, pattern))
    if moment == "during":
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline and not (proxy.gate.seen.is_set() or peer.gate.seen.is_set()):
            time.sleep(0.005)
    if moment == "after":
        read_answer(sock)
    leave(sock, how)
    # The worker has read the departure once a later connection is answered (one worker: ordering, not timing).
    assert service.healthz() == (200, b'{"status":"ok"}')
    # A request read before the departure has been dispatched, and its peer call is under way: wait (still held)
    # until the peer has it. One the departure beat (a reset can discard unread bytes) never reaches a peer.
    deadline = time.monotonic() + (2 if hold else 0)
    while time.monotonic() < deadline and not (proxy.gate.seen.is_set() or peer.gate.seen.is_set()):
        time.sleep(0.005)
    pending = hold and (proxy.gate.seen.is_set() or peer.gate.seen.is_set())
    proxy.gate.release()
    peer.gate.release()
    if (listener, method, pattern) in CANCELLED:
        pending = False
    if pending:
        wait_for(lambda: service.dropped(pattern) >= before + 1, 20,
                 f"the dropped answer of {(listener, method, pattern, moment, how)} to be counted", interval=0.02)
    assert service.dropped(pattern) == before + (1 if pending else 0), (listener, method, pattern, moment, how)
    return pending


def served(service):
    """Another client is served in full, with the exact answer shape."""
    status, _, raw = service.request("POST", "/v1/presign", PRESIGN, bearer=KEY)
    body = json.loads(raw)
    assert status == 200, body
    assert body["method"] == "GET" and body["url"].startswith(f"http://127.0.0.1:") and "/b/k/x?" in body["url"]


def test_every_route_survives_a_client_that_leaves_while_its_answer_is_pending(stack):
    service, proxy, peer, _ = stack
    table = routes(service.config)
    assert ("public", "GET", "/l/{id}") in table and ("admin", "GET", "/admin/v1/buckets") in table
    served(service)  # connects the worker's Redis connections before the gates are used
    waited = []
    for index, (listener, method, pattern) in enumerate(table):
        how = ("close", "half-close", "reset")[index % 3]
        if exchange(service, proxy, peer, listener, method, pattern, "during", how):
            waited.append((listener, method, pattern))
        served(service)
    # The routes that answer later did wait (a guarded route waits on the Redis rate limit, admin ones on S3).
    for route in [("public", "POST", "/v1/presign"), ("public", "POST", "/v1/presign/batch"),
                  ("public", "POST", "/v1/uploads"), ("public", "POST", "/v1/links"), ("public", "GET", "/l/{id}"),
                  ("admin", "GET", "/admin/v1/buckets"), ("admin", "PUT", "/admin/v1/buckets/{bucket}")]:
        assert route in waited, (route, waited)
    assert ("public", "GET", "/healthz") not in waited


def test_a_seeded_walk_of_disconnect_moments_drops_exactly_the_late_answers(stack):
    service, proxy, peer, _ = stack
    rng = random.Random(SEED)
    later = [("public", "POST", "/v1/presign"), ("public", "POST", "/v1/presign/batch"), ("public", "GET", "/l/{id}"),
             ("public", "POST", "/v1/links"), ("public", "POST", "/v1/uploads"), ("admin", "GET", "/admin/v1/buckets"),
             ("admin", "GET", "/admin/v1/buckets/{bucket}/objects")]
    served(service)
    pending = 0
    for _ in range(36):
        route = rng.choice(later)
        moment = rng.choice(["immediately", "during", "after"])
        how = rng.choice(["close", "half-close", "reset"])
        pending += exchange(service, proxy, peer, *route, moment, how)
        served(service)
    assert pending > 0
    total = sum(service.dropped(route[2]) for route in later)
    assert total == pending


def test_a_jwt_waiting_for_its_key_set_survives_its_client_leaving(stack):
    service, proxy, peer, _ = stack
    # The fetch every worker starts at boot must have answered first: a request that came while it was in flight
    # would wait for it rather than ask the (held) endpoint itself.
    wait_for(lambda: service.metric("presignd_jwks_fetches_total") >= 1, 10, "the boot fetch of the key set", interval=0.02)
    peer.gate.hold()
    sock = socket.create_connection(("127.0.0.1", service.port), timeout=30)
    body = json.dumps(PRESIGN).encode()
    sock.sendall(b"POST /v1/presign HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer " + random_kid_token().encode()
                 + b"\r\nContent-Type: application/json\r\nContent-Length: " + str(len(body)).encode() + b"\r\n\r\n"
                 + body)
    wait_for(peer.gate.seen.is_set, 5, "presignd to ask the JWKS endpoint", interval=0.005)
    leave(sock, "close")
    assert service.healthz() == (200, b'{"status":"ok"}')
    peer.gate.release()
    assert wait_for(lambda: service.dropped("/v1/presign"), 20, "the dropped answer to be counted", interval=0.02) == 1
    served(service)


def test_writing_to_a_client_that_left_is_an_error_on_that_connection_not_the_end_of_the_process(stack):
    """Two pipelined requests and a close without reading: the second answer's write fails (EPIPE after the reset
    the first one drew). Before SIGPIPE was ignored this ended the process (status -13)."""
    service, _, _, _ = stack
    for _ in range(30):
        sock = socket.create_connection(("127.0.0.1", service.port), timeout=30)
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n" * 2)
        sock.close()
        time.sleep(0.01)
    assert service.proc.poll() is None, service.output()[-2000:]
    assert service.healthz() == (200, b'{"status":"ok"}')
    served(service)


def test_a_client_that_leaves_while_its_reading_is_paused_has_its_late_answer_dropped(stack):
    """A request waits on Redis with 100 KiB of pipelined requests behind it, so the server has stopped reading the
    socket and cannot see the client leave by a read: the late answer asks the socket (TCP_INFO) and is dropped,
    counted, and none of the pipelined requests is answered into the dead socket."""
    service, proxy, _, _ = stack
    served(service)
    before = service.dropped("/v1/presign")
    proxy.gate.hold()
    sock = socket.create_connection(("127.0.0.1", service.port), timeout=30)
    body = json.dumps(PRESIGN).encode()
    sock.sendall(b"POST /v1/presign HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer " + KEY.encode()
                 + b"\r\nContent-Type: application/json\r\nContent-Length: " + str(len(body)).encode() + b"\r\n\r\n"
                 + body + b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n" * 3000)
    wait_for(proxy.gate.seen.is_set, 5, "the request to reach Redis", interval=0.005)
    sock.close()
    assert service.healthz() == (200, b'{"status":"ok"}')
    proxy.gate.release()
    wait_for(lambda: service.dropped("/v1/presign") >= before + 1, 20, "the dropped answer to be counted", interval=0.02)
    assert service.dropped("/v1/presign") == before + 1
    assert service.proc.poll() is None, service.output()[-2000:]
    served(service)


def test_a_download_the_client_never_reads_is_let_go(stack):
    """An admin download to a client that reads nothing: once no write has made progress for 30 s the connection
    is closed (the transfer with it), so the client that finally reads gets a cut-off body and the end of the
    stream, not all 64 MiB. Before the bound, the connection and its transfer were held for as long as the client
    liked, and a later read got everything."""
    service, _, _, _ = stack
    sock = socket.create_connection(("127.0.0.1", service.admin_port), timeout=60)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
    sock.sendall(f"GET /admin/v1/buckets/b/objects/big HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer {ADMIN}\r\n\r\n".encode())
    time.sleep(40)
    received = 0
    try:
        while True:
            chunk = sock.recv(1 << 20)
            if not chunk:
                break
            received += len(chunk)
    except ConnectionResetError:
        pass
    sock.close()
    assert 0 < received < len(FakePeer.BIG), received
    assert service.proc.poll() is None
    assert service.healthz() == (200, b'{"status":"ok"}')
