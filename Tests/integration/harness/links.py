"""Share links with SQLite, shared by test_links_api and test_links_store (and the fleet's link tests): the
callers' keys, the exact error bodies, a config, `Service` (presignd with links on), the objects, and the check that
no full link id ever reaches the server's output."""
import json
import os
import re
import uuid

import pytest

from harness.config import PresigndConfig, api_key_sha256, backend
from harness.process import ACCESS, SECRET, ServeProcess, free_port

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


def made(link):
    MADE.append(link["id"])
    return link
