"""Multipart uploads end to end against SeaweedFS 4.48 (which verifies presigned UploadPart URLs and checksums):
create, sign parts, PUT them straight to storage, list, complete, abort; limits, tokens and S3 faults."""
import base64
import hashlib
import json
import os
import socket
import threading
import time
import uuid

import pytest

from conftest import ACCESS, HEALTHZ_CLOSE, SECRET, PresigndConfig, ServeProcess, api_key_sha256, backend, free_port, request

KEY_A = "uploads-key-a-" + uuid.uuid4().hex
KEY_B = "uploads-key-b-" + uuid.uuid4().hex
TOKEN_SECRET = "uploads-token-secret-" + uuid.uuid4().hex
MiB = 1024 * 1024


def config(endpoint, bucket, **backend_extra):
    return {
        "backends": {"main": backend(endpoint, "U_S3_ACCESS", "U_S3_SECRET", **backend_extra)},
        "callers": [
            {"name": "alpha", "auth": {"api_key_sha256": api_key_sha256(KEY_A)}, "rules": [
                {"name": "big", "operations": ["put", "get"], "bucket": bucket, "key": "big/*", "max_expires_in": 86400,
                 "max_content_length": 12000000},
                {"name": "small", "operations": ["put"], "bucket": bucket, "key": "small/*", "max_expires_in": 3600,
                 "max_content_length": 6000000}]},
            {"name": "beta", "auth": {"api_key_sha256": api_key_sha256(KEY_B)}, "rules": [
                {"operations": ["put"], "bucket": bucket, "key": "big/*", "max_expires_in": 3600}]},
        ],
        "uploads": {"token_secret_env": "U_TOKEN_SECRET"},
    }


class Service(ServeProcess):
    def __init__(self, endpoint, bucket, **backend_extra):
        self.port = free_port()
        path = PresigndConfig(config(endpoint, bucket, **backend_extra), prefix="presignd-uploads-").path
        super().__init__(
            ["--config", path, "--listen", f"127.0.0.1:{self.port}", "--workers", "1", "--admin-listen", "off",
             "--access-log", "off"], self.port,
            env=dict(U_S3_ACCESS=ACCESS, U_S3_SECRET=SECRET, U_TOKEN_SECRET=TOKEN_SECRET), prefix="presignd-uploads-")

    def call(self, method, path, body=None, key=KEY_A):
        """(status, the JSON body or None)."""
        status, _, raw = self.request(method, path, body, bearer=key)
        return status, json.loads(raw) if raw else None


@pytest.fixture(scope="module")
def service(seaweed, bucket):
    s = Service(seaweed, bucket)
    yield s
    s.stop()
    text = s.output()
    assert TOKEN_SECRET not in text and KEY_A not in text
    assert "X-Amz-Signature" not in text and "uploadId=" not in text
    assert '"audit":"upload","step":"create"' in text


def create(service, bucket, key, **extra):
    status, body = service.call("POST", "/v1/uploads", {"bucket": bucket, "key": key, **extra})
    assert status == 201, body
    assert (body["bucket"], body["key"], body["part_size_min"], body["max_parts"]) == (bucket, key, 5242880, 10000)
    return body["upload"]


def upload_parts(service, upload, parts, checksum=False):
    """Signs and PUTs each (number, bytes); returns {number: etag}."""
    items = []
    for number, data in parts:
        item = {"number": number, "content_length": len(data)}
        if checksum:
            item["checksum"] = base64.b64encode(hashlib.sha256(data).digest()).decode()
        items.append(item)
    status, signed = service.call("POST", f"/v1/uploads/{upload}/parts", {"parts": items})
    assert status == 200, signed
    etags = {}
    for (number, data), part in zip(parts, signed["parts"]):
        assert part["number"] == number and part["method"] == "PUT"
        assert "partNumber=%d" % number in part["url"] and "X-Amz-Signature" in part["url"]
        status, headers, _ = request("PUT", part["url"], data, part["headers"])
        assert status == 200, (number, status)
        etags[number] = headers["ETag"]
    return etags


def test_three_parts_complete_into_exactly_the_input(service, bucket, s3):
    key = f"big/{uuid.uuid4().hex}.bin"
    data = [os.urandom(5 * MiB), os.urandom(5 * MiB), os.urandom(1000)]
    upload = create(service, bucket, key, content_type="application/octet-stream")
    etags = upload_parts(service, upload, list(enumerate(data, start=1)))
    status, done = service.call("POST", f"/v1/uploads/{upload}/complete",
                                {"parts": [{"number": n, "etag": e} for n, e in sorted(etags.items())]})
    assert status == 200, done
    assert (done["bucket"], done["key"], done["size"]) == (bucket, key, 10 * MiB + 1000)
    stored = s3.get_object(Bucket=bucket, Key=key)
    assert stored["Body"].read() == b"".join(data)
    assert stored["ContentType"] == "application/octet-stream"


def test_a_resumed_upload_lists_its_parts_and_completes(service, bucket, s3):
    key = f"big/{uuid.uuid4().hex}.bin"
    data = {1: os.urandom(5 * MiB), 2: os.urandom(5 * MiB), 3: os.urandom(7)}
    upload = create(service, bucket, key)
    etags = upload_parts(service, upload, [(1, data[1]), (3, data[3])])
    status, listed = service.call("GET", f"/v1/uploads/{upload}/parts")
    assert status == 200
    assert listed == {"parts": [{"number": 1, "etag": etags[1], "size": 5 * MiB}, {"number": 3, "etag": etags[3], "size": 7}]}
    etags.update(upload_parts(service, upload, [(2, data[2])]))
    status, done = service.call("POST", f"/v1/uploads/{upload}/complete",
                                {"parts": [{"number": n, "etag": etags[n]} for n in (3, 1, 2)]})
    assert status == 200 and done["size"] == 10 * MiB + 7, done
    assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == data[1] + data[2] + data[3]


def test_a_part_with_a_wrong_checksum_is_refused_by_s3(service, bucket, s3):
    key = f"big/{uuid.uuid4().hex}.bin"
    upload = create(service, bucket, key, checksum_algorithm="SHA256")
    good = os.urandom(5 * MiB)
    etags = upload_parts(service, upload, [(1, good)], checksum=True)
    bad = os.urandom(100)
    wrong = base64.b64encode(hashlib.sha256(b"something else").digest()).decode()
    status, signed = service.call("POST", f"/v1/uploads/{upload}/parts",
                                  {"parts": [{"number": 2, "content_length": len(bad), "checksum": wrong}]})
    assert status == 200
    part = signed["parts"][0]
    # Signed as a header (named in X-Amz-SignedHeaders), never carried as a query parameter.
    assert part["headers"]["x-amz-checksum-sha256"] == wrong
    assert "x-amz-checksum-sha256=" not in part["url"].lower() and "content-length%3bhost%3bx-amz-checksum-sha256" in part["url"].lower()
    assert request("PUT", part["url"], bad, part["headers"])[0] == 400
    # Completing with only the good part works; the refused one was never stored.
    status, done = service.call("POST", f"/v1/uploads/{upload}/complete",
                                {"parts": [{"number": 1, "etag": etags[1],
                                            "checksum": base64.b64encode(hashlib.sha256(good).digest()).decode()}]})
    assert status == 200 and done["size"] == 5 * MiB, done


def test_an_upload_over_max_content_length_is_refused_at_complete_and_aborted(service, bucket, s3):
    key = f"small/{uuid.uuid4().hex}.bin"
    upload = create(service, bucket, key)
    # Parts without a declared length: each is under the limit, their total (10 MiB) is not.
    status, signed = service.call("POST", f"/v1/uploads/{upload}/parts", {"parts": [{"number": 1}, {"number": 2}]})
    assert status == 200
    etags = {}
    for part in signed["parts"]:
        status, headers, _ = request("PUT", part["url"], os.urandom(5 * MiB), part["headers"])
        assert status == 200
        etags[part["number"]] = headers["ETag"]
    status, body = service.call("POST", f"/v1/uploads/{upload}/complete",
                                {"parts": [{"number": n, "etag": e} for n, e in sorted(etags.items())]})
    assert (status, body) == (403, {"error": {"code": "PolicyDenied", "message":
        "the upload's parts hold 10485760 bytes, over its max_content_length 6000000; the upload was aborted"}})
    uploads = s3.list_multipart_uploads(Bucket=bucket).get("Uploads", [])
    assert key not in [u["Key"] for u in uploads]


def test_another_callers_tampered_or_expired_token_is_404_and_the_upload_is_untouched(service, bucket, s3):
    key = f"big/{uuid.uuid4().hex}.bin"
    upload = create(service, bucket, key)
    not_found = {"error": {"code": "UploadNotFound", "message": "no such upload"}}
    assert service.call("GET", f"/v1/uploads/{upload}/parts", key=KEY_B) == (404, not_found)
    assert service.call("DELETE", f"/v1/uploads/{upload}", key=KEY_B) == (404, not_found)
    payload, mac = upload.split(".")
    flipped = payload[:-1] + ("A" if payload[-1] != "A" else "B")
    assert service.call("GET", f"/v1/uploads/{flipped}.{mac}/parts") == (404, not_found)
    assert service.call("GET", "/v1/uploads/garbage/parts") == (404, not_found)
    # The same payload with a forged MAC (the real one reversed): the MAC check fails, same 404.
    assert service.call("POST", f"/v1/uploads/{payload}.{mac[::-1]}/complete", {"parts": [{"number": 1, "etag": "x"}]}) == (404, not_found)
    # Untouched: the owner still sees it.
    assert service.call("GET", f"/v1/uploads/{upload}/parts") == (200, {"parts": []})
    assert service.call("DELETE", f"/v1/uploads/{upload}") == (204, None)


def test_an_expired_token_is_404(seaweed, bucket):
    """expires_in: 1, then two seconds later: the same 404 as any other unusable token."""
    s = Service(seaweed, bucket)
    try:
        upload = create(s, bucket, f"big/{uuid.uuid4().hex}", expires_in=1)
        time.sleep(2.1)
        assert s.call("GET", f"/v1/uploads/{upload}/parts") == (404, {"error": {"code": "UploadNotFound", "message": "no such upload"}})
    finally:
        s.stop()


@pytest.mark.parametrize("body,field,message", [
    ({"parts": [{"number": 0}]}, "parts[0].number", "must be 1...10000"),
    ({"parts": [{"number": 10001}]}, "parts[0].number", "must be 1...10000"),
    ({"parts": [{"number": n} for n in range(1, 102)]}, "parts", "must hold 1 to 100 parts (got 101)"),
    ({"parts": [{"number": 1}], "colour": "red"}, "colour", "unknown field"),
    ({"parts": [{"number": 1, "checksum": base64.b64encode(b"x" * 32).decode()}]}, "parts[0].checksum",
     "this upload was created without checksum_algorithm"),
    ({"parts": [{"number": 1}, {"number": 1}]}, "parts[1].number", "part 1 is listed twice"),
])
def test_invalid_part_requests_are_400_naming_the_field(service, bucket, body, field, message):
    upload = create(service, bucket, f"big/{uuid.uuid4().hex}")
    assert service.call("POST", f"/v1/uploads/{upload}/parts", body) == (
        400, {"error": {"code": "InvalidRequest", "message": f"{field}: {message}", "field": field}})
    assert service.call("DELETE", f"/v1/uploads/{upload}")[0] == 204


def test_create_is_allowed_only_where_a_put_rule_is(service, bucket):
    status, body = service.call("POST", "/v1/uploads", {"bucket": bucket, "key": "elsewhere/x"})
    assert status == 403 and body["error"]["code"] == "PolicyDenied"
    status, body = service.call("POST", "/v1/uploads", {"bucket": bucket, "key": "big/x", "content_length": 12000001})
    assert (status, body["error"]["code"]) == (403, "PolicyDenied")


def test_an_abort_removes_the_upload(service, bucket, s3):
    key = f"big/{uuid.uuid4().hex}.bin"
    upload = create(service, bucket, key)
    assert key in [u["Key"] for u in s3.list_multipart_uploads(Bucket=bucket).get("Uploads", [])]
    assert service.call("DELETE", f"/v1/uploads/{upload}") == (204, None)
    assert key not in [u["Key"] for u in s3.list_multipart_uploads(Bucket=bucket).get("Uploads", [])]


def test_s3_down_is_502_and_s3_too_slow_is_504_while_the_worker_keeps_serving(bucket):
    # Down: nothing listens on this port.
    dead = free_port()
    s = Service(f"http://127.0.0.1:{dead}", bucket)
    try:
        status, body = s.call("POST", "/v1/uploads", {"bucket": bucket, "key": "big/x"})
        assert status == 502 and body["error"]["code"] == "BadGateway"
    finally:
        s.stop()
    # Slow: a listener that accepts and never answers; the backend's request timeout is 2 s.
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    s = Service(f"http://127.0.0.1:{listener.getsockname()[1]}", bucket, request_timeout=2)
    try:
        result = {}
        caller = threading.Thread(target=lambda: result.update(answer=s.call("POST", "/v1/uploads", {"bucket": bucket, "key": "big/x"})))
        caller.start()
        time.sleep(0.5)
        # The create is pending on S3; the same (single) worker answers health checks meanwhile.
        assert s.send_raw(HEALTHZ_CLOSE, timeout=5).startswith(b"HTTP/1.1 200 OK\r\n")
        assert caller.is_alive()
        caller.join(timeout=20)
        status, body = result["answer"]
        assert status == 504 and body["error"]["code"] == "GatewayTimeout"
    finally:
        s.stop()
        listener.close()
