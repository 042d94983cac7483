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
import subprocess
import time

from conftest import presignd_binary, wait_for
from harness.late_answers import ADMIN, KEY, PRESIGN, TOKEN_SECRET, leave, served, stack  # noqa: F401 - a fixture

SEED = int(os.environ.get("PRESIGND_LATE_SEED", "20261207"))


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


def read_answer(sock):
    sock.settimeout(30)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, f"connection closed before an answer: {data!r}"
        data += chunk
    return int(data.split(b" ", 2)[1])


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
