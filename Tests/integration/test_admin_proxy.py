"""The admin path end to end: every operation SeaweedFS implements through /admin/v1, S3 errors passed through, the
token, and documents refused before S3 sees them. (Streaming, a slow reader and faults:
test_admin_proxy_streaming.py.)"""
import os
import socket
import urllib.parse
import uuid

from harness.admin_proxy import TOKEN, admin, js  # noqa: F401 - `admin` is a fixture


def test_every_operation_through_the_admin_api(admin, s3):
    bucket = "adm-" + uuid.uuid4().hex[:10]
    assert admin.call("PUT", f"/buckets/{bucket}") [0:1] == (200,)
    status, _, body = admin.call("GET", "/buckets")
    assert status == 200 and bucket in [b["name"] for b in js(body)["buckets"]]

    payloads = {"docs/a b.txt": b"first\n", "docs/sub/c.txt": b"second\n", "top.bin": os.urandom(1000)}
    for key, data in payloads.items():
        quoted = urllib.parse.quote(key)
        status, _, body = admin.call("PUT", f"/buckets/{bucket}/objects/{quoted}", data, {"Content-Type": "text/plain"})
        assert (status, js(body)) == (200, {"bucket": bucket, "key": key})
        assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == data

    status, _, body = admin.call("GET", f"/buckets/{bucket}/objects?prefix=docs/&delimiter=/")
    listing = js(body)
    assert status == 200 and listing["prefix"] == "docs/" and listing["delimiter"] == "/"
    assert [o["key"] for o in listing["objects"]] == ["docs/a b.txt"]
    assert listing["objects"][0]["size"] == 6
    assert listing["common_prefixes"] == ["docs/sub/"]

    status, headers, body = admin.call("GET", f"/buckets/{bucket}/objects/docs/a%20b.txt")
    assert (status, body) == (200, b"first\n") and headers["Content-Type"] == "text/plain"
    status, headers, body = admin.call("HEAD", f"/buckets/{bucket}/objects/top.bin")
    assert status == 200 and headers["Content-Length"] == "1000" and body == b""

    status, headers, body = admin.call("GET", f"/buckets/{bucket}/objects/top.bin?acl")
    assert status == 200 and headers["Content-Type"] == "application/xml" and b"<AccessControlPolicy" in body
    acl = s3.get_object_acl(Bucket=bucket, Key="top.bin")
    assert f"<ID>{acl['Owner']['ID']}</ID>".encode() in body
    status, _, _ = admin.call("PUT", f"/buckets/{bucket}/objects/top.bin?acl", body, {"Content-Type": "application/xml"})
    assert status == 200
    status, _, bucket_acl = admin.call("GET", f"/buckets/{bucket}/acl")
    assert status == 200 and b"<AccessControlPolicy" in bucket_acl
    assert admin.call("PUT", f"/buckets/{bucket}/acl", bucket_acl, {"Content-Type": "application/xml"})[0] == 200

    # SeaweedFS 4.48 answers location with an empty constraint; presignd reports what it got.
    status, _, body = admin.call("GET", f"/buckets/{bucket}/location")
    assert (status, js(body)) == (200, {"location": ""})
    # Logging: GET passes the document through; PUT passes SeaweedFS's own answer through, whatever it is.
    status, _, body = admin.call("GET", f"/buckets/{bucket}/logging")
    assert status == 200 and b"BucketLoggingStatus" in body
    logging_doc = b'<BucketLoggingStatus xmlns="http://s3.amazonaws.com/doc/2006-03-01/"/>'
    status, _, body = admin.call("PUT", f"/buckets/{bucket}/logging", logging_doc, {"Content-Type": "application/xml"})
    # Whatever SeaweedFS says to the same request made directly (4.48: 409 BucketAlreadyExists), presignd says too.
    import botocore.exceptions
    try:
        s3.put_bucket_logging(Bucket=bucket, BucketLoggingStatus={})
        assert status == 200
    except botocore.exceptions.ClientError as error:
        assert status == error.response["ResponseMetadata"]["HTTPStatusCode"]
        assert js(body)["error"]["code"] == error.response["Error"]["Code"]
    print(f"PutBucketLogging through presignd: {status} {body[:120]!r}")

    # Errors keep S3's status and code.
    status, _, body = admin.call("GET", f"/buckets/{bucket}/objects/missing")
    assert status == 404 and js(body)["error"]["code"] == "NoSuchKey" and js(body)["error"]["s3_request_id"]
    status, _, body = admin.call("DELETE", f"/buckets/{bucket}")
    assert status == 409 and js(body)["error"]["code"] == "BucketNotEmpty"

    for key in payloads:
        assert admin.call("DELETE", f"/buckets/{bucket}/objects/{urllib.parse.quote(key)}")[0] == 204
    assert admin.call("DELETE", f"/buckets/{bucket}")[0] == 204
    status, _, body = admin.call("GET", "/buckets")
    assert bucket not in [b["name"] for b in js(body)["buckets"]]
    # Every call was audit-logged.
    assert '"audit":"admin"' in admin.output() and '"operation":"delete_bucket"' in admin.output()


def test_admin_needs_the_token(admin):
    status, headers, body = admin.call("GET", "/buckets", token="wrong")
    assert status == 401 and headers["WWW-Authenticate"] == 'Bearer realm="presignd-admin"'
    assert admin.call("GET", "/buckets", token=None)[0] == 401


def test_an_acl_document_over_1_mib_is_413_and_never_sent(admin, s3, bucket):
    s3.put_object(Bucket=bucket, Key="acl-target.txt", Body=b"x")
    before = s3.get_object_acl(Bucket=bucket, Key="acl-target.txt")["Grants"]
    too_large = (b'{"error":{"code":"EntityTooLarge","message":"an ACL document is at most 1048576 bytes"}}')
    # Declared too large: refused before the body is read.
    status, _, body = admin.call("PUT", f"/buckets/{bucket}/objects/acl-target.txt?acl", b"<" * ((1 << 20) + 1))
    assert (status, body) == (413, too_large)
    # Chunked, so only the bytes tell: refused when they pass 1 MiB, and the connection closes.
    conn = socket.create_connection(("127.0.0.1", admin.admin_port), timeout=30)
    conn.sendall((f"PUT /admin/v1/buckets/{bucket}/objects/acl-target.txt?acl HTTP/1.1\r\nHost: x\r\n"
                  f"Authorization: Bearer {TOKEN}\r\nTransfer-Encoding: chunked\r\n\r\n").encode())
    # Exactly one byte over, and nothing after it, so the server has read everything when it closes.
    for size in [256 << 10] * 4 + [1]:
        conn.sendall(b"%x\r\n" % size + b"<" * size + b"\r\n")
    reply = b""
    while True:
        data = conn.recv(65536)
        if not data:
            break
        reply += data
    conn.close()
    head, _, rest = reply.partition(b"\r\n\r\n")
    assert head.split(b"\r\n")[0] == b"HTTP/1.1 413 Content Too Large" and rest == too_large
    assert s3.get_object_acl(Bucket=bucket, Key="acl-target.txt")["Grants"] == before


def test_a_location_that_is_not_a_region_is_400_before_s3_sees_it(admin, s3):
    name = "loc-" + uuid.uuid4().hex[:10]
    status, _, body = admin.call("PUT", f"/buckets/{name}?location=EU%3C%2FLocationConstraint%3E%3Cx%2F%3E")
    assert (status, js(body)) == (400, {"error": {"code": "InvalidRequest", "message":
        "location 'EU</LocationConstraint><x/>' is not a region name: use 1-64 letters, digits, '-', '_' or '.'"}})
    assert name not in [b["Name"] for b in s3.list_buckets()["Buckets"]]
