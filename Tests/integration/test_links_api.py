"""Share links end to end against SeaweedFS, the API: `POST /v1/links` makes one, `GET /l/{id}` (no credentials)
counts a use and redirects to a presigned GET that really serves the object; HEAD, revocation, use limits,
ownership, bad input, links off without a links section, and a link whose maker loses the rule. No full link id
ever reaches the server's output. (The store itself, SQLite under load, restarts, locks and faults:
test_links_store.py.)"""
import copy
import json
import shutil
import signal
import urllib.parse

import pytest

from conftest import ACCESS, SECRET, PresigndConfig, ServeProcess, free_port, request, wait_for
from harness.links import (KEY_A, KEY_B, NOT_FOUND, REVOKED, USED_UP, Service, assert_no_full_ids, config, made,
                           objects)  # noqa: F401 - `objects` is a fixture


@pytest.fixture(scope="module")
def service(seaweed, bucket, objects):
    s = Service(seaweed, bucket)
    yield s
    s.stop()
    text = s.output()
    assert_no_full_ids(s)
    assert '"audit":"link_create"' in text and '"audit":"link_use"' in text


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
