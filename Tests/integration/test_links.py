"""Share links end to end against SeaweedFS: `POST /v1/links` makes one, `GET /l/{id}` (no credentials) counts a use
and redirects to a presigned GET that really serves the object; HEAD, revocation, use limits under 50 concurrent
GETs on 4 workers, persistence across a restart, ownership, bad input, and a SQLite file that is locked by another
process or cannot be written (503, while presign keeps working). No full link id ever reaches the server's output."""
import copy
import http.client
import json
import os
import re
import select
import shutil
import signal
import sqlite3
import subprocess
import time
import urllib.parse
import uuid

import pytest

from conftest import (ACCESS, SECRET, PresigndConfig, ServeProcess, api_key_sha256, backend, concurrently, free_port, server_has_read,
                      request, wait_for)

KEY_A = "links-key-a-" + uuid.uuid4().hex
KEY_B = "links-key-b-" + uuid.uuid4().hex
BUSY_MS = 200
NOT_FOUND = {"error": {"code": "LinkNotFound", "message": "no such link"}}
REVOKED = {"error": {"code": "LinkRevoked", "message": "this link was revoked"}}
USED_UP = {"error": {"code": "LinkUsedUp", "message": "this link has been used as many times as it allows"}}
BUSY = {"error": {"code": "LinkStoreUnavailable", "message": "the link store is busy; retry"}}
UNAVAILABLE = {"error": {"code": "LinkStoreUnavailable", "message": "the link store is unavailable; retry later"}}
ID = re.compile(r"^[A-Za-z0-9_-]{32}$")


# The route limits are not what these tests are about (test_link_limits.py is): generous, so they never answer 429.
UNLIMITED = {"rate_limit": {"per_address": {"per_second": 100000, "burst": 100000},
                            "per_link": {"per_second": 100000, "burst": 100000}}}


def config(endpoint, bucket, port, sqlite_path, links_extra=UNLIMITED, busy_ms=BUSY_MS):
    return {
        "audit_log": True,
        "backends": {"main": backend(endpoint, "L_S3_ACCESS", "L_S3_SECRET")},
        "callers": [
            {"name": "alpha", "auth": {"api_key_sha256": api_key_sha256(KEY_A)}, "rules": [
                {"name": "share", "operations": ["share_link"], "bucket": bucket, "key": "share/*", "max_expires_in": 86400},
                {"name": "read", "operations": ["get"], "bucket": bucket, "key": "share/*", "max_expires_in": 600}]},
            {"name": "beta", "auth": {"api_key_sha256": api_key_sha256(KEY_B)}, "rules": [
                {"operations": ["share_link"], "bucket": bucket, "key": "share/*", "max_expires_in": 86400}]},
        ],
        "links": {"public_base_url": f"http://127.0.0.1:{port}", "sqlite_path": sqlite_path, "url_ttl": 60,
                  "busy_timeout_ms": busy_ms, **links_extra},
    }


class Service(ServeProcess):
    """presignd with links on, its SQLite file in its own directory (or `sqlite_path`, to restart on the same one)."""

    def __init__(self, endpoint, bucket, workers=1, sqlite_path=None, links_extra=UNLIMITED, busy_ms=BUSY_MS):
        self.port = free_port()
        self.settings = PresigndConfig(prefix="presignd-links-")
        self.sqlite_path = sqlite_path or os.path.join(self.settings.dir, "links.sqlite")
        self.settings.write(config(endpoint, bucket, self.port, self.sqlite_path, links_extra, busy_ms))
        self.config = self.settings.path
        super().__init__(
            ["--config", self.config, "--listen", f"127.0.0.1:{self.port}", "--workers", str(workers),
             "--admin-listen", "off", "--access-log", "off"], self.port,
            env=dict(L_S3_ACCESS=ACCESS, L_S3_SECRET=SECRET), prefix="presignd-links-")

    def create(self, bucket, key, **extra):
        status, headers, body = self.request("POST", "/v1/links", {"bucket": bucket, "key": key, **extra}, bearer=KEY_A)
        assert status == 201, body
        assert headers["cache-control"] == "no-store"
        link = json.loads(body)
        assert set(link) == {"id", "url", "expires_at", "max_uses"}
        assert ID.match(link["id"]) and link["url"] == f"http://127.0.0.1:{self.port}/l/{link['id']}"
        return link

    def info(self, link_id, key=KEY_A):
        status, _, body = self.request("GET", f"/v1/links/{link_id}", bearer=key)
        assert status == 200, body
        return json.loads(body)

    def open(self, link_id, method="GET"):
        return self.request(method, f"/l/{link_id}")


def ids_in(text):
    """Every 32-character base64url run in `text` that is not part of a longer one."""
    return set(re.findall(r"(?<![A-Za-z0-9_-])[A-Za-z0-9_-]{32}(?![A-Za-z0-9_-])", text))


MADE = []  # every full link id the tests made, checked against each server's output


def assert_no_full_ids(service):
    text = service.output()
    for link_id in MADE:
        assert link_id not in text, "a full link id appeared in presignd's output"
    # Nor anything shaped like one (the 8-character audit prefixes are far shorter).
    assert ids_in(text) == set(), ids_in(text)
    assert "X-Amz-Signature" not in text and KEY_A not in text and KEY_B not in text


@pytest.fixture(scope="module")
def objects(s3, bucket):
    data = {"share/report.bin": os.urandom(5000) + b"\x00end", "share/small.txt": b"hello, link\n"}
    for key, body in data.items():
        s3.put_object(Bucket=bucket, Key=key, Body=body)
    return data


@pytest.fixture(scope="module")
def service(seaweed, bucket, objects):
    s = Service(seaweed, bucket)
    yield s
    s.stop()
    text = s.output()
    assert_no_full_ids(s)
    assert '"audit":"link_create"' in text and '"audit":"link_use"' in text


def made(link):
    MADE.append(link["id"])
    return link


def test_a_link_redirects_to_the_object_with_its_stored_disposition(service, bucket, objects):
    disposition = 'attachment; filename="q3 report.bin"'
    link = made(service.create(bucket, "share/report.bin", max_uses=5, expires_in=3600,
                               response={"content_disposition": disposition}))
    assert link["max_uses"] == 5
    status, headers, body = service.open(link["id"])
    assert (status, body) == (302, b"")
    assert headers["cache-control"] == "no-store" and headers["referrer-policy"] == "no-referrer"
    location = headers["location"]
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(location).query)
    assert urllib.parse.urlsplit(location).path == f"/{bucket}/share/report.bin"
    assert query["X-Amz-Expires"] == ["60"]
    assert query["response-content-disposition"] == [disposition]
    status, got, data = request("GET", location)
    assert status == 200 and data == objects["share/report.bin"]
    assert got["content-disposition"] == disposition
    info = service.info(link["id"])
    assert info["created_at"] < info["expires_at"]
    del info["created_at"], info["expires_at"]
    assert info == {"id": link["id"], "backend": "main", "bucket": bucket, "key": "share/report.bin",
                    "max_uses": 5, "uses": 1, "revoked": False, "state": "active"}
    # The audit line names the link by its 8-character prefix and says which use this was.
    lines = [json.loads(line[line.index("{"):]) for line in service.output().splitlines()
             if '"audit":"link_use"' in line and link["id"][:8] in line]
    assert len(lines) == 1 and lines[0]["link"] == link["id"][:8] and lines[0]["use"] == 1
    assert lines[0]["client_ip"] == "127.0.0.1"


def test_an_unlimited_link_says_max_uses_null(service, bucket):
    link = made(service.create(bucket, "share/small.txt"))
    assert link["max_uses"] is None
    assert service.info(link["id"])["max_uses"] is None


def test_head_redirects_to_a_presigned_head_and_counts_no_use(service, bucket, objects):
    link = made(service.create(bucket, "share/small.txt", max_uses=3))
    status, headers, body = service.open(link["id"], method="HEAD")
    assert (status, body) == (302, b"")
    assert headers["cache-control"] == "no-store" and headers["referrer-policy"] == "no-referrer"
    status, got, data = request("HEAD", headers["location"])
    assert (status, data) == (200, b"")
    assert got["content-length"] == str(len(objects["share/small.txt"]))
    # A presigned HEAD URL does not open the object for GET.
    assert request("GET", headers["location"])[0] == 403
    assert service.info(link["id"])["uses"] == 0
    assert service.open(link["id"])[0] == 302
    assert service.info(link["id"])["uses"] == 1


def test_a_revoked_link_answers_410_at_once(service, bucket):
    link = made(service.create(bucket, "share/small.txt"))
    assert service.open(link["id"])[0] == 302
    status, headers, body = service.request("DELETE", f"/v1/links/{link['id']}", bearer=KEY_A)
    assert (status, body) == (204, b"") and headers["cache-control"] == "no-store"
    status, headers, body = service.open(link["id"])
    assert (status, json.loads(body)) == (410, REVOKED)
    assert headers["cache-control"] == "no-store" and "location" not in headers
    assert service.open(link["id"], method="HEAD")[0] == 410
    info = service.info(link["id"])
    assert (info["revoked"], info["state"], info["uses"]) == (True, "revoked", 1)


def test_a_link_with_max_uses_2_is_used_up_on_the_third_get(service, bucket):
    link = made(service.create(bucket, "share/small.txt", max_uses=2))
    assert service.open(link["id"])[0] == 302
    assert service.open(link["id"])[0] == 302
    status, headers, body = service.open(link["id"])
    assert (status, json.loads(body)) == (410, USED_UP) and headers["cache-control"] == "no-store"
    info = service.info(link["id"])
    assert (info["uses"], info["state"], info["revoked"]) == (2, "used_up", False)


def test_another_caller_cannot_see_or_revoke_a_link(service, bucket):
    link = made(service.create(bucket, "share/small.txt"))
    for method in ("GET", "DELETE"):
        status, headers, body = service.request(method, f"/v1/links/{link['id']}", bearer=KEY_B)
        assert (status, json.loads(body)) == (404, NOT_FOUND), method
        assert headers["cache-control"] == "no-store"
    # Still alive, and still the maker's.
    assert service.open(link["id"])[0] == 302
    assert service.info(link["id"])["state"] == "active"
    status, _, body = service.request("GET", f"/v1/links/{link['id']}")
    assert status == 401


@pytest.mark.parametrize("path", [
    "/l/short",
    "/l/" + "A" * 31,
    "/l/" + "A" * 33,
    "/l/" + "A" * 31 + "=",
    "/l/" + "A" * 31 + "+",
    "/l/" + "A" * 31 + ".",
    "/l/" + "A" * 32,                                # well formed, unknown
    "/l/" + "%41" * 32,                              # percent-encoded, decodes to a well-formed unknown id
    "/l/" + "%C3%A9%20%2B%3D" + "A" * 27,            # percent-encoded, decodes to UTF-8 that is not base64url
    "/l/" + "%00" + "A" * 31,                        # a NUL
    "/l/" + "%2F" * 32,
    "/l/" + "A" * 4000,
])
def test_malformed_and_unknown_ids_are_all_404_link_not_found(service, path):
    status, headers, body = service.request("GET", path)
    assert (status, json.loads(body)) == (404, NOT_FOUND), path
    assert headers["cache-control"] == "no-store"
    status, _, body = service.request("GET", "/v1/links/" + path[3:], bearer=KEY_A)
    assert (status, json.loads(body)) == (404, NOT_FOUND), path


@pytest.mark.parametrize("path", ["/l/%FF%FE" + "A" * 30, "/l/%ZZ" + "A" * 29, "/l/" + "A" * 30 + "%4"])
def test_ids_that_are_not_valid_percent_encoding_are_400_bad_path_from_the_router(service, path):
    """Invalid escapes or invalid UTF-8 are refused by the router for every route, before any handler: the answer
    depends only on how the id is spelled, never on what the store holds."""
    bad = {"error": {"code": "BadPath", "message": "path is not valid percent-encoding"}}
    status, _, body = service.request("GET", path)
    assert (status, json.loads(body)) == (400, bad)
    status, _, body = service.request("DELETE", "/v1/links/" + path[3:], bearer=KEY_A)
    assert (status, json.loads(body)) == (400, bad)


@pytest.mark.parametrize("value", [0, -1, 1000001, "3", 2.5, None, True])
def test_max_uses_out_of_range_or_not_an_integer_is_400(service, bucket, value):
    status, _, body = service.request(
        "POST", "/v1/links", {"bucket": bucket, "key": "share/small.txt", "max_uses": value}, bearer=KEY_A)
    assert (status, json.loads(body)) == (400, {"error": {
        "code": "InvalidRequest", "message": "max_uses: must be an integer from 1 to 1000000", "field": "max_uses"}})


def test_unknown_fields_expiry_over_the_rule_and_other_keys_are_refused(service, bucket):
    status, _, body = service.request(
        "POST", "/v1/links", {"bucket": bucket, "key": "share/small.txt", "uses": 1}, bearer=KEY_A)
    assert status == 400 and json.loads(body)["error"]["field"] == "uses"
    status, _, body = service.request(
        "POST", "/v1/links", {"bucket": bucket, "key": "share/small.txt", "expires_in": 86401}, bearer=KEY_A)
    assert status == 403 and json.loads(body)["error"]["code"] == "PolicyDenied"
    status, _, body = service.request("POST", "/v1/links", {"bucket": bucket, "key": "private/x"}, bearer=KEY_A)
    assert status == 403 and json.loads(body)["error"]["code"] == "PolicyDenied"
    status, headers, body = service.request("POST", "/v1/links", {"bucket": bucket, "key": "share/small.txt"})
    assert status == 401 and "www-authenticate" in headers


def test_fifty_concurrent_gets_on_four_workers_redirect_exactly_max_uses_times(seaweed, bucket, objects):
    s = Service(seaweed, bucket, workers=4)
    try:
        link = made(s.create(bucket, "share/small.txt", max_uses=10))
        results = concurrently(50, lambda i: (s.port, "GET", f"/l/{link['id']}", None, None))
        assert all(status is not None for status, _ in results), results
        statuses = sorted(status for status, _ in results)
        assert statuses == [302] * 10 + [410] * 40
        assert all(json.loads(body) == USED_UP for status, body in results if status == 410)
        info = s.info(link["id"])
        assert (info["uses"], info["state"]) == (10, "used_up")
        uses = sorted(json.loads(line[line.index("{"):])["use"] for line in s.output().splitlines()
                      if '"audit":"link_use"' in line)
        assert uses == list(range(1, 11))
    finally:
        s.stop()
    assert_no_full_ids(s)


def test_links_survive_a_restart_on_the_same_file(seaweed, bucket, objects):
    first = Service(seaweed, bucket)
    try:
        link = made(first.create(bucket, "share/small.txt", max_uses=5))
        revoked = made(first.create(bucket, "share/small.txt"))
        assert first.open(link["id"])[0] == 302
        assert first.request("DELETE", f"/v1/links/{revoked['id']}", bearer=KEY_A)[0] == 204
    finally:
        first.stop()  # SIGTERM, exit status 0
    assert_no_full_ids(first)
    second = Service(seaweed, bucket, sqlite_path=first.sqlite_path)
    try:
        status, headers, _ = second.open(link["id"])
        assert status == 302
        assert request("GET", headers["location"])[2] == objects["share/small.txt"]
        assert second.info(link["id"])["uses"] == 2
        assert json.loads(second.open(revoked["id"])[2]) == REVOKED
    finally:
        second.stop()
    assert_no_full_ids(second)


def test_a_database_locked_by_another_process_answers_503_and_presign_keeps_working(seaweed, bucket, objects):
    s = Service(seaweed, bucket)
    holder = None
    try:
        link = made(s.create(bucket, "share/small.txt"))
        assert s.open(link["id"])[0] == 302
        holder = sqlite3.connect(s.sqlite_path, isolation_level=None, timeout=0)
        holder.execute("BEGIN EXCLUSIVE")
        started = time.monotonic()
        status, headers, body = s.open(link["id"])
        waited = time.monotonic() - started
        assert (status, json.loads(body)) == (503, BUSY)
        assert headers["retry-after"] == "1" and headers["cache-control"] == "no-store"
        # SQLite waited for the lock (busy_timeout_ms) before giving up; never an unbounded wait.
        assert waited >= BUSY_MS / 1000 * 0.9, waited
        status, headers, body = s.request("POST", "/v1/links", {"bucket": bucket, "key": "share/small.txt"}, bearer=KEY_A)
        assert (status, json.loads(body)) == (503, BUSY) and headers["retry-after"] == "1"
        status, _, body = s.request("POST", "/v1/presign", {"operation": "get", "bucket": bucket,
                                                            "key": "share/small.txt"}, bearer=KEY_A)
        assert status == 200 and request("GET", json.loads(body)["url"])[2] == objects["share/small.txt"]
        holder.rollback()
        holder.close()
        holder = None
        # The store, whose thread waited for the lock, writes again after its one-second cooldown.
        time.sleep(1.2)
        assert s.open(link["id"])[0] == 302
        assert s.info(link["id"])["uses"] == 2
    finally:
        if holder is not None:
            holder.close()
        s.stop()
    lines = [line for line in s.output().splitlines() if f"share links (SQLite {s.sqlite_path}):" in line]
    assert any("link store is busy" in line for line in lines), s.output()[-3000:]
    assert_no_full_ids(s)


def test_a_held_lock_stalls_no_loop_the_worker_answers_healthz_while_a_link_waits(seaweed, bucket, objects):
    """One worker. Another process holds the write lock, so a link's use waits in SQLite's busy handler (up to
    busy_timeout_ms, 1000 here), on the store's thread: meanwhile the same worker answers /healthz, every time,
    while the link's connection has nothing to read; once the lock goes, the link answers 302 with its use counted.
    (When SQLite ran on the loop, the first /healthz waited behind the link, which had answered by then.)"""
    s = Service(seaweed, bucket, workers=1, busy_ms=1000)
    holder = waiting = None
    try:
        link = made(s.create(bucket, "share/small.txt"))
        holder = sqlite3.connect(s.sqlite_path, isolation_level=None, timeout=0)
        holder.execute("BEGIN EXCLUSIVE")
        waiting = s.connect(timeout=30)
        waiting.sendall(f"GET /l/{link['id']} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        answered = 0
        for _ in range(5):
            status, _, body = s.request("GET", "/healthz")
            assert (status, json.loads(body)) == (200, {"status": "ok"})
            assert select.select([waiting], [], [], 0)[0] == [], "the link answered while the lock was held"
            answered += 1
        holder.rollback()
        holder.close()
        holder = None
        response = http.client.HTTPResponse(waiting)
        response.begin()
        assert response.status == 302 and response.getheader("cache-control") == "no-store"
        assert answered == 5
        assert s.info(link["id"])["uses"] == 1
    finally:
        if holder is not None:
            holder.close()
        if waiting is not None:
            waiting.close()
        s.stop()
    assert_no_full_ids(s)


def test_a_client_that_leaves_while_its_link_waits_for_the_store_has_its_answer_dropped(seaweed, bucket, objects):
    """The link's use is queued behind a held lock when its client leaves: the store's answer finds the client
    gone and is dropped and counted once; the worker goes on serving."""
    s = Service(seaweed, bucket, workers=1, busy_ms=1000)
    holder = None
    try:
        link = made(s.create(bucket, "share/small.txt"))
        holder = sqlite3.connect(s.sqlite_path, isolation_level=None, timeout=0)
        holder.execute("BEGIN EXCLUSIVE")
        leaving = s.connect(timeout=30)
        leaving.sendall(f"GET /l/{link['id']} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        # The worker has read the link's request (its loop may read sockets in any order), and still serves.
        wait_for(lambda: server_has_read(leaving), 10, "the worker to read the link's request", interval=0.01)
        assert s.request("GET", "/healthz")[0] == 200
        leaving.close()
        holder.rollback()
        holder.close()
        holder = None
        dropped = wait_for(lambda: s.metric("presignd_late_answers_dropped_total", route="/l/{id}"), 20,
                           "the dropped answer to be counted", interval=0.02)
        assert dropped == 1
        assert s.open(link["id"])[0] == 302
    finally:
        if holder is not None:
            holder.close()
        s.stop()
    assert_no_full_ids(s)


def test_a_database_that_cannot_be_written_answers_503_and_recovers(seaweed, bucket, objects):
    """Root ignores file modes, so chmod cannot make the file read-only for these tests. The immutable attribute
    (chattr +i) binds root too: on ext4 a write through an already-open descriptor then fails (EPERM, SQLite's
    "disk I/O error"), and a reopen gets a read-only connection ("attempt to write a readonly database"). The -shm
    file is left alone: SQLite writes it through a shared mapping, where an immutable file means SIGBUS."""
    s = Service(seaweed, bucket)
    frozen = [s.sqlite_path, s.sqlite_path + "-wal"]
    locked = False
    try:
        link = made(s.create(bucket, "share/small.txt"))
        assert s.open(link["id"])[0] == 302
        assert os.path.exists(frozen[1])
        subprocess.run(["chattr", "+i", *frozen], check=True, capture_output=True)
        locked = True
        # The open connection's write fails; the store drops it, and the reopened one is read-only.
        for _ in range(3):
            status, headers, body = s.open(link["id"])
            assert (status, json.loads(body)) == (503, UNAVAILABLE)
            assert headers["retry-after"] == "1"
        status, _, body = s.request("POST", "/v1/links", {"bucket": bucket, "key": "share/small.txt"}, bearer=KEY_A)
        assert (status, json.loads(body)) == (503, UNAVAILABLE)
        status, _, body = s.request("POST", "/v1/presign", {"operation": "get", "bucket": bucket,
                                                            "key": "share/small.txt"}, bearer=KEY_A)
        assert status == 200 and request("GET", json.loads(body)["url"])[2] == objects["share/small.txt"]
        subprocess.run(["chattr", "-i", *frozen], check=True, capture_output=True)
        locked = False
        assert s.open(link["id"])[0] == 302
        assert s.info(link["id"])["uses"] == 2
    finally:
        if locked:
            subprocess.run(["chattr", "-i", *frozen], capture_output=True)
        s.stop()
    errors = [line for line in s.output().splitlines() if f"share links (SQLite {s.sqlite_path}):" in line]
    assert any(f"link database {s.sqlite_path}" in line for line in errors), s.output()[-3000:]
    assert_no_full_ids(s)


def test_links_are_off_without_a_links_section(seaweed, bucket):
    port = free_port()
    settings = PresigndConfig({**config(seaweed, bucket, port, "unused"), "links": None}, prefix="presignd-nolinks-")
    s = ServeProcess(["--config", settings.path, "--listen", f"127.0.0.1:{port}", "--workers", "1", "--admin-listen", "off"],
                     port, env=dict(L_S3_ACCESS=ACCESS, L_S3_SECRET=SECRET))
    try:
        disabled = {"error": {"code": "LinksDisabled", "message": "share links are not configured on this server"}}
        for method, target, key in [("POST", "/v1/links", KEY_A), ("GET", "/l/" + "A" * 32, None),
                                    ("GET", "/v1/links/" + "A" * 32, KEY_A), ("DELETE", "/v1/links/" + "A" * 32, KEY_A)]:
            body = {"bucket": bucket, "key": "share/small.txt"} if method == "POST" else None
            status, _, answer = s.request(method, target, body, bearer=key, timeout=10)
            assert (status, json.loads(answer)) == (404, disabled), (method, target)
    finally:
        s.stop()
    shutil.rmtree(settings.dir, ignore_errors=True)


def test_a_link_whose_maker_loses_the_rule_answers_410_link_not_allowed(seaweed, bucket, objects):
    """The policy is checked again at every use: a SIGHUP that withdraws the maker's share_link rule ends the link
    (GET and HEAD), and putting the rule back brings it back."""
    s = Service(seaweed, bucket)
    not_allowed = {"error": {"code": "LinkNotAllowed", "message": "this link is no longer allowed by policy"}}
    try:
        link = made(s.create(bucket, "share/small.txt"))
        assert s.open(link["id"])[0] == 302
        original = copy.deepcopy(s.settings.settings)
        narrowed = copy.deepcopy(original)
        narrowed["callers"][0]["rules"][0]["key"] = "other/*"  # alpha's share_link rule
        for settings, expected in ((narrowed, 410), (original, 302)):
            s.settings.write(settings)
            s.proc.send_signal(signal.SIGHUP)
            # Polled with HEAD, which counts no use, until the reload is in force.
            wait_for(lambda: s.open(link["id"], method="HEAD")[0] == expected, 5, f"the reload to answer {expected}")
            status, _, body = s.open(link["id"])
            assert status == expected, (status, body)
            if expected == 410:
                assert json.loads(body) == not_allowed
        assert s.info(link["id"])["uses"] == 2
    finally:
        s.stop()
    assert_no_full_ids(s)
