"""Share links end to end against SeaweedFS, the SQLite store: use limits under 50 concurrent GETs on 4 workers,
persistence across a restart, and a SQLite file that is locked by another process or cannot be written (503, while
presign keeps working), without stalling the loop. No full link id ever reaches the server's output. (The API:
test_links_api.py.)"""
import http.client
import json
import os
import select
import sqlite3
import subprocess
import time

from conftest import concurrently, request, server_has_read, wait_for
from harness.links import (BUSY, BUSY_MS, KEY_A, REVOKED, UNAVAILABLE, USED_UP, Service, assert_no_full_ids, made,
                           objects)  # noqa: F401 - `objects` is a fixture


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
