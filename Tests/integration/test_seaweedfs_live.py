"""presignd's URLs against a real S3 server (SeaweedFS 4.48) that checks signatures."""
import datetime
import json
import os
import subprocess
import tempfile
import xml.etree.ElementTree as ET

import pytest

from conftest import ACCESS, SECRET

AWKWARD_KEYS = ["plain.txt", "dir/a b+c=d&e.txt", "ünï/cødé 😀~[x].bin", "100% done?#.txt", "a//double/slash"]


def curl(method, url, body=None, extra=()):
    """Runs curl with the URL exactly as given; returns (status, body bytes)."""
    with tempfile.NamedTemporaryFile() as out:
        args = ["curl", "-s", "--path-as-is", "-o", out.name, "-w", "%{http_code}", "-X", method, *extra]
        if method == "HEAD":
            args = ["curl", "-s", "--path-as-is", "-I", "-o", out.name, "-w", "%{http_code}", *extra]
        if body is not None:
            with tempfile.NamedTemporaryFile(delete=False) as src:
                src.write(body)
            args += ["--data-binary", "@" + src.name, "-H", "Content-Type:"]
        result = subprocess.run(args + [url], capture_output=True, text=True, timeout=30)
        if body is not None:
            os.unlink(src.name)
        return int(result.stdout), open(out.name, "rb").read()


def error_code(body):
    return ET.fromstring(body).find("Code").text


def sign(presignd, endpoint, bucket, key, method, signature="v4", expires="300", now=None, extra=()):
    args = ["sign", "--endpoint", endpoint, "--region", "us-east-1", "--access-key", ACCESS, "--secret-key", SECRET,
            "--method", method, "--bucket", bucket, "--key=" + key, "--expires", expires, "--signature", signature,
            *extra]
    if now:
        args += ["--now", now]
    return presignd(*args).stdout.strip()


@pytest.mark.parametrize("signature", ["v4", "v2"])
@pytest.mark.parametrize("key", AWKWARD_KEYS)
def test_put_get_delete_round_trip(presignd, seaweed, bucket, s3, signature, key):
    payload = os.urandom(4096) + key.encode()
    status, _ = curl("PUT", sign(presignd, seaweed, bucket, key, "PUT", signature), body=payload)
    assert status == 200
    # SeaweedFS stored it under exactly this key (no '+' for space, no double encoding).
    assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == payload
    status, got = curl("GET", sign(presignd, seaweed, bucket, key, "GET", signature))
    assert (status, got) == (200, payload)
    status, _ = curl("HEAD", sign(presignd, seaweed, bucket, key, "HEAD", signature))
    assert status == 200
    status, _ = curl("DELETE", sign(presignd, seaweed, bucket, key, "DELETE", signature))
    assert status == 204
    status, _ = curl("GET", sign(presignd, seaweed, bucket, key, "GET", signature))
    assert status == 404


@pytest.mark.parametrize("signature", ["v4", "v2"])
def test_one_changed_signature_character_is_refused(presignd, seaweed, bucket, s3, signature):
    s3.put_object(Bucket=bucket, Key="tamper.txt", Body=b"x")
    url = sign(presignd, seaweed, bucket, "tamper.txt", "GET", signature)
    assert curl("GET", url)[0] == 200
    marker = "X-Amz-Signature=" if signature == "v4" else "Signature="
    at = url.index(marker) + len(marker)
    flipped = "b" if url[at] == "a" else "a"
    status, body = curl("GET", url[:at] + flipped + url[at + 1:])
    assert status == 403
    assert error_code(body) in ("SignatureDoesNotMatch", "AccessDenied")


@pytest.mark.parametrize("signature", ["v4", "v2"])
def test_expired_url_is_refused(presignd, seaweed, bucket, s3, signature):
    s3.put_object(Bucket=bucket, Key="old.txt", Body=b"x")
    past = (datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    status, body = curl("GET", sign(presignd, seaweed, bucket, "old.txt", "GET", signature, expires="60", now=past))
    assert status == 403
    assert error_code(body) in ("AccessDenied", "ExpiredToken", "RequestExpired")


@pytest.mark.parametrize("signature", ["v4", "v2"])
def test_get_url_used_for_delete_is_refused(presignd, seaweed, bucket, s3, signature):
    s3.put_object(Bucket=bucket, Key="keep.txt", Body=b"keep")
    status, _ = curl("DELETE", sign(presignd, seaweed, bucket, "keep.txt", "GET", signature))
    assert status == 403
    assert s3.get_object(Bucket=bucket, Key="keep.txt")["Body"].read() == b"keep"


def post_form(presignd, seaweed, bucket, key, signature, *extra):
    out = presignd("sign-post", "--endpoint", seaweed, "--region", "us-east-1", "--access-key", ACCESS,
                   "--secret-key", SECRET, "--bucket", bucket, "--key=" + key, "--expires", "300",
                   "--signature", signature, *extra).stdout
    return json.loads(out)


def curl_post(form, content, content_type="application/octet-stream"):
    with tempfile.NamedTemporaryFile(delete=False) as src:
        src.write(content)
    args = []
    for name, value in form["fields"].items():
        args += ["--form-string", f"{name}={value}"]
    args += ["-F", f"file=@{src.name};filename=upload.bin;type={content_type}"]
    try:
        return curl("POST", form["url"], extra=args)
    finally:
        os.unlink(src.name)


@pytest.mark.parametrize("signature", ["v4", "v2"])
def test_post_policy_upload_succeeds(presignd, seaweed, bucket, s3, signature):
    form = post_form(presignd, seaweed, bucket, f"posted/{signature}/${{filename}}", signature,
                     "--content-length-range", "1,1024", "--content-type", "image/png")
    body = os.urandom(700)
    status, reply = curl_post(form, body, "image/png")
    assert status in (200, 204), reply
    assert s3.get_object(Bucket=bucket, Key=f"posted/{signature}/upload.bin")["Body"].read() == body


def test_post_policy_upload_over_length_range_is_refused(presignd, seaweed, bucket, s3):
    form = post_form(presignd, seaweed, bucket, "posted/too-big.bin", "v4", "--content-length-range", "1,100")
    status, reply = curl_post(form, os.urandom(101))
    assert status == 400
    assert error_code(reply) == "EntityTooLarge"
    with pytest.raises(s3.exceptions.NoSuchKey):
        s3.get_object(Bucket=bucket, Key="posted/too-big.bin")


def test_post_policy_with_tampered_policy_is_refused(presignd, seaweed, bucket):
    form = post_form(presignd, seaweed, bucket, "posted/tampered.bin", "v4")
    form["fields"]["key"] = "posted/elsewhere.bin"
    status, reply = curl_post(form, b"data")
    assert status == 403
