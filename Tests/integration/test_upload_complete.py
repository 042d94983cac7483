"""Complete never stores more than the rule allows (issue 21, part 3).

A fake S3 on loopback plays the hostile peers: one that lists a part late (its PUT finished after presignd's
ListParts), one that lists a retried part twice, and one whose object grows between the listing and the complete
(HEAD reports more than the listing held). SeaweedFS 4.48 checks the retried part for real: the version named at
complete is the one stored, byte for byte.
"""
import json
import os
import re
import threading
import time
import urllib.parse
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from test_uploads import MiB, Service, create, service, upload_parts  # noqa: F401 - `service` is a fixture

UPLOAD_ID = "fake-upload-" + uuid.uuid4().hex


class FakeS3:
    """Answers CreateMultipartUpload, ListParts (`listing`: (number, etag, size) in the order given),
    CompleteMultipartUpload, HEAD (`head`: the Content-Length, or "fail" for a 500), DELETE (`delete_status`)
    and AbortMultipartUpload; records every request as (method, path, query, headers, body)."""

    def __init__(self):
        self.listing = []
        self.head = 0
        self.delete_status = 204
        self.requests = []
        self.lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def record(self):
                url = urllib.parse.urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                query = dict(urllib.parse.parse_qsl(url.query, keep_blank_values=True))
                with outer.lock:
                    outer.requests.append((self.command, url.path, query, {k.lower(): v for k, v in self.headers.items()}, body))
                return url.path, query

            def answer(self, status, body=b"", headers=()):
                self.send_response(status)
                for name, value in headers:
                    self.send_header(name, value)
                if status != 204:
                    self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            def xml(self, status, text):
                self.answer(status, text.encode(), [("Content-Type", "application/xml")])

            def do_POST(self):
                path, query = self.record()
                bucket, key = path[1:].split("/", 1)
                if "uploads" in query:
                    return self.xml(200, f"<InitiateMultipartUploadResult><Bucket>{bucket}</Bucket><Key>{key}</Key>"
                                         f"<UploadId>{UPLOAD_ID}</UploadId></InitiateMultipartUploadResult>")
                self.xml(200, f"<CompleteMultipartUploadResult><Bucket>{bucket}</Bucket><Key>{key}</Key>"
                              f"<ETag>&quot;done-2&quot;</ETag></CompleteMultipartUploadResult>")

            def do_GET(self):
                self.record()
                parts = "".join(f"<Part><PartNumber>{n}</PartNumber><ETag>&quot;{e}&quot;</ETag><Size>{s}</Size></Part>"
                                for n, e, s in outer.listing)
                self.xml(200, f"<ListPartsResult><IsTruncated>false</IsTruncated>{parts}</ListPartsResult>")

            def do_HEAD(self):
                self.record()
                if outer.head == "fail":
                    return self.answer(500)
                self.answer(200, headers=[("Content-Length", str(outer.head))])

            def do_DELETE(self):
                _, query = self.record()
                if "uploadId" not in query and outer.delete_status != 204:
                    return self.xml(outer.delete_status, "<Error><Code>InternalError</Code><Message>disk on fire</Message></Error>")
                self.answer(204)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.endpoint = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def seen(self):
        """The requests recorded so far, forgetting them."""
        with self.lock:
            out, self.requests = self.requests, []
        return out

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture(scope="module")
def fake():
    s3 = FakeS3()
    yield s3
    s3.close()


@pytest.fixture(scope="module")
def faked(fake):
    s = Service(fake.endpoint, "fakebucket")
    yield s
    s.stop()


def steps(requests):
    """(method, what) for each request the fake saw: what names the S3 operation."""
    out = []
    for method, path, query, _, _ in requests:
        what = "uploads" if "uploads" in query else "uploadId" if "uploadId" in query else "object"
        out.append((method, what))
    return out


def complete(service, upload, parts):
    return service.call("POST", f"/v1/uploads/{upload}/complete", {"parts": [{"number": n, "etag": e} for n, e in parts]})


def test_a_part_missing_from_the_listing_is_409_and_no_complete_is_sent(faked, fake):
    key = f"small/{uuid.uuid4().hex}"
    upload = create(faked, "fakebucket", key)
    # Part 2's PUT is still running when presignd lists: S3 lists part 1 only.
    fake.listing = [(1, "p1", 5 * MiB)]
    fake.head = 5 * MiB + 100
    fake.seen()
    assert complete(faked, upload, [(1, '"p1"'), (2, '"p2"')]) == (409, {"error": {"code": "PartNotUploaded", "message":
        "S3 does not list part 2: finish uploading it (or name the ETag its PUT answered), then complete again; nothing was completed"}})
    # Only the listing: no CompleteMultipartUpload, and no abort either (the client may finish and complete again).
    assert steps(fake.seen()) == [("GET", "uploadId")]
    # A wrong ETag for a listed part is refused the same way, naming the part.
    assert complete(faked, upload, [(1, '"other"')]) == (409, {"error": {"code": "PartNotUploaded", "message":
        "S3 lists part 1 with another ETag than the one given: finish uploading it (or name the ETag its PUT answered), then complete again; nothing was completed"}})
    assert steps(fake.seen()) == [("GET", "uploadId")]
    # Once S3 lists it, the same complete goes through, with the listed total as x-amz-mp-object-size.
    fake.listing = [(1, "p1", 5 * MiB), (2, "p2", 100)]
    assert complete(faked, upload, [(1, '"p1"'), (2, "p2")]) == (200, {"bucket": "fakebucket", "key": key, "etag": '"done-2"', "size": 5 * MiB + 100})
    seen = fake.seen()
    assert steps(seen) == [("GET", "uploadId"), ("POST", "uploadId"), ("HEAD", "object")]
    assert seen[1][3]["x-amz-mp-object-size"] == str(5 * MiB + 100)
    assert b"<PartNumber>2</PartNumber><ETag>p2</ETag>" in seen[1][4]


def test_an_object_that_grew_after_the_listing_is_deleted_and_403(faked, fake):
    key = f"small/{uuid.uuid4().hex}"
    upload = create(faked, "fakebucket", key)
    # The listing holds 5,242,980 bytes (under the 6,000,000 rule); the part grew before S3 assembled the object.
    fake.listing = [(1, "p1", 5 * MiB), (2, "p2", 100)]
    fake.head = 9242880
    fake.seen()
    assert complete(faked, upload, [(1, '"p1"'), (2, '"p2"')]) == (403, {"error": {"code": "PolicyDenied", "message":
        "the completed object holds 9242880 bytes, over its max_content_length 6000000; the object was deleted"}})
    seen = fake.seen()
    assert steps(seen) == [("GET", "uploadId"), ("POST", "uploadId"), ("HEAD", "object"), ("DELETE", "object")]
    assert seen[1][3]["x-amz-mp-object-size"] == "5242980"
    assert seen[3][1] == f"/fakebucket/{key}" and seen[3][2] == {}
    # Audited with the stored size (the line may be written after the answer: wait for it, bounded).
    wanted = re.compile(r'"step":"delete_over_limit".*"key":"%s".*"size":9242880' % re.escape(key))
    for _ in range(100):
        if wanted.search(faked.output()):
            break
        time.sleep(0.05)
    assert wanted.search(faked.output()), faked.output()[-2000:]


def test_an_object_whose_size_cannot_be_read_or_deleted_is_never_a_success(faked, fake):
    key = f"small/{uuid.uuid4().hex}"
    upload = create(faked, "fakebucket", key)
    fake.listing = [(1, "p1", 100)]
    fake.head = "fail"
    fake.seen()
    status, body = complete(faked, upload, [(1, '"p1"')])
    assert (status, body["error"]["code"]) == (502, "BadGateway"), body
    assert body["error"]["message"].startswith("the completed object's size could not be read (")
    assert body["error"]["message"].endswith("); the object was deleted")
    assert steps(fake.seen()) == [("GET", "uploadId"), ("POST", "uploadId"), ("HEAD", "object"), ("DELETE", "object")]
    # Over the limit and the delete fails: still 403, saying so.
    fake.head = 6000001
    fake.delete_status = 500
    try:
        assert complete(faked, upload, [(1, '"p1"')]) == (403, {"error": {"code": "PolicyDenied", "message":
            "the completed object holds 6000001 bytes, over its max_content_length 6000000; the object could not be deleted (InternalError: disk on fire)"}})
    finally:
        fake.delete_status = 204
    assert steps(fake.seen()) == [("GET", "uploadId"), ("POST", "uploadId"), ("HEAD", "object"), ("DELETE", "object")]


def test_a_part_listed_twice_counts_the_version_named(faked, fake):
    key = f"small/{uuid.uuid4().hex}"
    upload = create(faked, "fakebucket", key)
    # A retried part: S3 lists both versions, the larger one first.
    fake.listing = [(1, "big", 9 * MiB), (1, "small", 5 * MiB), (2, "p2", 100)]
    fake.head = 5 * MiB + 100
    # The list route shows every version S3 keeps, in S3's order.
    assert faked.call("GET", f"/v1/uploads/{upload}/parts") == (200, {"parts": [
        {"number": 1, "etag": '"big"', "size": 9 * MiB}, {"number": 1, "etag": '"small"', "size": 5 * MiB},
        {"number": 2, "etag": '"p2"', "size": 100}]})
    fake.seen()
    assert complete(faked, upload, [(1, '"small"'), (2, '"p2"')]) == (200, {"bucket": "fakebucket", "key": key, "etag": '"done-2"', "size": 5 * MiB + 100})
    seen = fake.seen()
    assert steps(seen) == [("GET", "uploadId"), ("POST", "uploadId"), ("HEAD", "object")]
    assert seen[1][3]["x-amz-mp-object-size"] == str(5 * MiB + 100)
    assert seen[1][4].count(b"<Part>") == 2 and b"<ETag>&quot;small&quot;</ETag>" in seen[1][4]
    # Naming the larger version is over the rule: aborted before any complete.
    upload = create(faked, "fakebucket", key)
    fake.seen()
    assert complete(faked, upload, [(1, '"big"'), (2, '"p2"')]) == (403, {"error": {"code": "PolicyDenied", "message":
        "the upload's parts hold 9437284 bytes, over its max_content_length 6000000; the upload was aborted"}})
    assert steps(fake.seen()) == [("GET", "uploadId"), ("DELETE", "uploadId")]


def test_a_retried_part_completes_with_the_version_named_on_seaweedfs(service, bucket, s3):
    """Part 1 is PUT twice with different bytes (and sizes); SeaweedFS lists both. Completing with either ETag
    stores exactly that version."""
    part2 = os.urandom(1000)
    for keep in (0, 1):
        key = f"big/{uuid.uuid4().hex}.bin"
        upload = create(service, bucket, key)
        versions = [os.urandom(5 * MiB), os.urandom(5 * MiB + 17)]
        etags = [upload_parts(service, upload, [(1, version)])[1] for version in versions]
        etags.append(upload_parts(service, upload, [(2, part2)])[2])
        status, listed = service.call("GET", f"/v1/uploads/{upload}/parts")
        assert status == 200, listed
        assert sorted((p["number"], p["etag"], p["size"]) for p in listed["parts"]) == sorted(
            [(1, etags[0], 5 * MiB), (1, etags[1], 5 * MiB + 17), (2, etags[2], 1000)])
        size = len(versions[keep]) + 1000
        status, done = complete(service, upload, [(1, etags[keep]), (2, etags[2])])
        assert status == 200 and (done["bucket"], done["key"], done["size"]) == (bucket, key, size), done
        assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == versions[keep] + part2


def test_a_part_never_uploaded_is_409_on_seaweedfs_and_the_upload_stays(service, bucket, s3):
    key = f"big/{uuid.uuid4().hex}.bin"
    upload = create(service, bucket, key)
    etags = upload_parts(service, upload, [(1, os.urandom(5 * MiB))])
    assert complete(service, upload, [(1, etags[1]), (2, '"0123456789abcdef0123456789abcdef"')]) == (409, {"error": {
        "code": "PartNotUploaded", "message":
        "S3 does not list part 2: finish uploading it (or name the ETag its PUT answered), then complete again; nothing was completed"}})
    assert key in [u["Key"] for u in s3.list_multipart_uploads(Bucket=bucket).get("Uploads", [])]
    assert service.call("DELETE", f"/v1/uploads/{upload}") == (204, None)
