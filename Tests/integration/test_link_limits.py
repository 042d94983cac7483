"""The limits of the one anonymous route, `GET`/`HEAD /l/{id}`, and the live-link cap, against the real binary: SQLite
(several workers) and a real redis-server (two processes). Over a per-address or per-link limit the answer is 429
with `Retry-After` and the store is not touched (SQLite's `data_version` and Redis's `INFO commandstats` do not
move); an unknown id costs reads only; `X-Forwarded-For` names the client only from a trusted proxy, so a spoofed
header gets no fresh budget; and 50 concurrent creates leave exactly `max_live_per_caller` links."""
import hashlib
import json
import socket
import sqlite3
import uuid

from conftest import concurrently, resp
from harness.fleet import FAST_KEY, services  # noqa: F401 - a fixture
from harness.links import KEY_A, Service

ADDRESS_LIMITED = {"error": {"code": "RateLimited", "message": "too many requests for this client address; retry later"}}
LINK_LIMITED = {"error": {"code": "RateLimited", "message": "too many requests for this link; retry later"}}
# Redirects are never followed here, so the backend is a port nobody listens on.
S3 = "http://127.0.0.1:9"
BUCKET = "b"
NOT_FOUND = {"error": {"code": "LinkNotFound", "message": "no such link"}}


def too_many(cap):
    return {"error": {"code": "TooManyLinks",
                      "message": f"this caller already holds {cap} live links (links.max_live_per_caller); revoke one or let one expire"}}


def limits(per_address=(100000, 100000), per_link=(100000, 100000), trusted=None, cap=None):
    """The `links` settings these tests vary: the route's rate limits, the trusted proxies and the live-link cap."""
    rate_limit = {"per_address": {"per_second": per_address[0], "burst": per_address[1]},
                  "per_link": {"per_second": per_link[0], "burst": per_link[1]}}
    if trusted:
        rate_limit["trusted_proxies"] = list(trusted)
    return {"rate_limit": rate_limit, **({"max_live_per_caller": cap} if cap else {})}


def get(service, path, source="127.0.0.1", forwarded=None, method="GET"):
    """`path` from `source` (any 127.x address is this host), through a proxy that forwarded it for `forwarded`."""
    return service.request(method, path, source=source, headers={"X-Forwarded-For": forwarded} if forwarded is not None else None)


class DataVersion:
    """SQLite's `PRAGMA data_version` on one connection of our own: it changes exactly when another connection
    commits a write to the file."""

    def __init__(self, path):
        self.db = sqlite3.connect(path)

    def __call__(self):
        return self.db.execute("PRAGMA data_version").fetchone()[0]


# ---------------------------------------------------------------------------------------------------------------
# SQLite


def test_sqlite_over_the_address_limit_is_429_and_writes_nothing():
    s = Service(S3, BUCKET, links_extra=limits(per_address=(0.001, 5)))
    try:
        link = s.create(BUCKET, "share/small.txt")
        version = DataVersion(s.sqlite_path)
        for _ in range(5):
            assert get(s, f"/l/{link['id']}")[0] == 302
        before = version()
        for method in ["GET"] * 7 + ["HEAD"] * 2:
            status, headers, body = get(s, f"/l/{link['id']}", method=method)
            assert (status, headers["retry-after"], headers["cache-control"]) == (429, "1000", "no-store")
            if method == "GET":
                assert json.loads(body) == ADDRESS_LIMITED
        # Unknown ids from the same address are refused before the store is read; malformed ones before anything.
        assert get(s, "/l/" + "A" * 32)[0] == 429
        assert get(s, "/l/short")[0] == 404
        assert version() == before
        assert s.info(link["id"])["uses"] == 5
        # Another address (127.0.0.2 is this host too) has its own budget.
        assert get(s, f"/l/{link['id']}", source="127.0.0.2")[0] == 302
        assert s.info(link["id"])["uses"] == 6
    finally:
        s.stop()


def test_sqlite_unknown_ids_cost_no_write():
    s = Service(S3, BUCKET, links_extra=limits())
    try:
        s.create(BUCKET, "share/small.txt")
        version = DataVersion(s.sqlite_path)
        before = version()
        for i in range(30):
            status, _, body = get(s, "/l/" + uuid.uuid4().hex[:32], method="GET" if i % 3 else "HEAD")
            assert status == 404
        for path in ["/l/short", "/l/" + "A" * 31 + "=", "/l/" + "%00" * 32]:
            assert get(s, path)[0] == 404
        assert version() == before
    finally:
        s.stop()


def test_sqlite_over_the_link_limit_is_429_from_every_address():
    # Clients behind the trusted proxy 127.0.0.1: each named address has its own budget, the link has one.
    s = Service(S3, BUCKET, links_extra=limits(per_link=(0.001, 4), trusted=["127.0.0.1/32"]))
    try:
        link = s.create(BUCKET, "share/small.txt")
        version = DataVersion(s.sqlite_path)
        answers = [get(s, f"/l/{link['id']}", forwarded=f"198.51.100.{i}") for i in range(1, 11)]
        assert [status for status, _, _ in answers] == [302] * 4 + [429] * 6
        assert all(json.loads(body) == LINK_LIMITED and headers["retry-after"] == "1000"
                   for status, headers, body in answers if status == 429)
        before = version()
        assert get(s, f"/l/{link['id']}", forwarded="198.51.100.200")[0] == 429
        assert version() == before
        assert s.info(link["id"])["uses"] == 4
    finally:
        s.stop()


def test_a_spoofed_forwarded_for_from_an_untrusted_peer_gets_no_fresh_budget():
    s = Service(S3, BUCKET, links_extra=limits(per_address=(0.001, 3), trusted=["127.0.0.1/32"]))
    try:
        link = s.create(BUCKET, "share/small.txt")
        # 127.0.0.2 is not a trusted proxy: whatever it forwards, it is the client.
        statuses = [get(s, f"/l/{link['id']}", source="127.0.0.2", forwarded=f"203.0.113.{i}")[0] for i in range(8)]
        assert statuses == [302] * 3 + [429] * 5
        # Through the trusted proxy, the rightmost untrusted entry is the client; what it wrote to its left is not read.
        statuses = [get(s, f"/l/{link['id']}", forwarded=f"203.0.113.{i}, 198.51.100.7")[0] for i in range(5)]
        assert statuses == [302] * 3 + [429] * 2
        # A malformed header counts against the proxy itself.
        statuses = [get(s, f"/l/{link['id']}", forwarded=f"198.51.100.{i}:80")[0] for i in range(5)]
        assert statuses == [302] * 3 + [429] * 2
        assert s.info(link["id"])["uses"] == 9
    finally:
        s.stop()


def test_sqlite_the_live_link_cap_holds_under_50_concurrent_creates_on_four_workers():
    cap = 20
    s = Service(S3, BUCKET, workers=4, links_extra=limits(cap=cap))
    try:
        results = concurrently(50, lambda i: (s.port, "POST", "/v1/links", json.dumps({"bucket": BUCKET, "key": f"share/{i}"}),
                                              {"Authorization": f"Bearer {KEY_A}", "Content-Type": "application/json"}))
        statuses = sorted(status for status, _ in results)
        assert statuses == [201] * cap + [429] * 30, results
        assert all(json.loads(body) == too_many(cap) for status, body in results if status == 429)
        rows = sqlite3.connect(s.sqlite_path).execute("SELECT count(*) FROM links").fetchone()[0]
        assert rows == cap
        # A revocation gives its place back; so does spending a link's last use.
        first = json.loads(next(body for status, body in results if status == 201))["id"]
        assert s.request("DELETE", f"/v1/links/{first}", bearer=KEY_A)[0] == 204
        once = s.create(BUCKET, "share/small.txt", max_uses=1)
        assert s.request("POST", "/v1/links", {"bucket": BUCKET, "key": "share/x"}, bearer=KEY_A)[0] == 429
        assert get(s, f"/l/{once['id']}")[0] == 302
        assert s.request("POST", "/v1/links", {"bucket": BUCKET, "key": "share/x"}, bearer=KEY_A)[0] == 201
        assert s.request("POST", "/v1/links", {"bucket": BUCKET, "key": "share/y"}, bearer=KEY_A)[0] == 429
    finally:
        s.stop()


# ---------------------------------------------------------------------------------------------------------------
# Redis


def redis_info(port, section):
    """`INFO section` as a dict of its `name:value` lines."""
    with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
        s.sendall(resp("INFO", section))
        data = b""
        while b"\r\n" not in data:
            data += s.recv(65536)
        length = int(data[1:data.index(b"\r\n")])
        start = data.index(b"\r\n") + 2
        while len(data) < start + length + 2:
            data += s.recv(65536)
    text = data[start:start + length].decode()
    return dict(line.split(":", 1) for line in text.splitlines() if ":" in line and not line.startswith("#"))


def commands(port):
    """Calls per command so far (commands run by scripts included), without INFO itself."""
    stats = redis_info(port, "commandstats")
    return {name: int(value.split(",")[0].split("=")[1]) for name, value in stats.items() if name != "cmdstat_info"}


def delta(before, after):
    return {name: after[name] - before.get(name, 0) for name in after if after[name] != before.get(name, 0)}


def test_redis_refused_and_unknown_requests_cost_no_store_write(redis_servers, services):
    redis = redis_servers()
    # One worker: the buckets are per worker loop, and this test counts exactly.
    a = services(redis.port, workers=1, links_extra=limits(per_address=(0.001, 5), per_link=(0.001, 1000), trusted=["127.0.0.1/32"]))
    status, _, body = a.request("POST", "/v1/links", {"bucket": "b", "key": "k/x"}, bearer=FAST_KEY)
    assert status == 201, body
    link = json.loads(body)
    for _ in range(5):
        assert get(a, f"/l/{link['id']}", forwarded="198.51.100.1")[0] == 302
    before = commands(redis.port)
    for method in ["GET"] * 7 + ["HEAD"] * 3:
        status, headers, body = get(a, f"/l/{link['id']}", forwarded="198.51.100.1", method=method)
        assert (status, headers["retry-after"]) == (429, "1000")
    # A refused request sends Redis nothing at all.
    assert delta(before, commands(redis.port)) == {}
    # Unknown ids from fresh addresses: one read each (HGETALL), no script, no write.
    for i in range(20):
        method = "GET" if i % 2 else "HEAD"
        status, _, body = get(a, "/l/" + uuid.uuid4().hex[:32], forwarded=f"198.51.100.{100 + i}", method=method)
        assert status == 404 and (method == "HEAD" or json.loads(body) == NOT_FOUND)
    assert delta(before, commands(redis.port)) == {"cmdstat_hgetall": 20}
    assert a.metric("presignd_link_rate_limited_total", limit="address") == 10
    status, _, body = a.request("GET", f"/v1/links/{link['id']}", bearer=FAST_KEY)
    assert json.loads(body)["uses"] == 5


def test_redis_the_live_link_cap_holds_under_50_concurrent_creates_on_two_processes(redis_servers, services):
    redis = redis_servers()
    cap = 20
    a = services(redis.port, links_extra=limits(cap=cap))
    b = services(redis.port, links_extra=limits(cap=cap))
    results = concurrently(50, lambda i: ((a if i % 2 else b).port, "POST", "/v1/links",
                                          json.dumps({"bucket": "b", "key": f"k/{i}"}),
                                          {"Authorization": f"Bearer {FAST_KEY}", "Content-Type": "application/json"}))
    statuses = sorted(status for status, _ in results)
    assert statuses == [201] * cap + [429] * 30, results
    assert all(json.loads(body) == too_many(cap) for status, body in results if status == 429)
    live_key = "presignd:live:" + hashlib.sha256(b"fast").hexdigest()[:32]
    assert redis.command("ZCARD", live_key) == f":{cap}"
    assert redis.command("KEYS", "presignd:link:*") == f"*{cap}"  # nothing of the refused ones
    # A revocation gives its place back; so does spending a link's last use.
    first = json.loads(next(body for status, body in results if status == 201))["id"]
    assert b.request("DELETE", f"/v1/links/{first}", bearer=FAST_KEY)[0] == 204
    assert redis.command("ZCARD", live_key) == f":{cap - 1}"
    status, _, body = a.request("POST", "/v1/links", {"bucket": "b", "key": "k/once", "max_uses": 1}, bearer=FAST_KEY)
    assert status == 201, body
    once = json.loads(body)["id"]
    assert json.loads(b.request("POST", "/v1/links", {"bucket": "b", "key": "k/x"}, bearer=FAST_KEY)[2]) == too_many(cap)
    assert a.request("GET", f"/l/{once}")[0] == 302
    assert redis.command("ZCARD", live_key) == f":{cap - 1}"
    assert b.request("POST", "/v1/links", {"bucket": "b", "key": "k/x"}, bearer=FAST_KEY)[0] == 201
    assert a.request("POST", "/v1/links", {"bucket": "b", "key": "k/y"}, bearer=FAST_KEY)[0] == 429
