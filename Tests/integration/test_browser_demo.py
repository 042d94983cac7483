"""The browser demo in real Chromium (Debian's, driven by Playwright offline): pick a generated PNG, upload it
straight to SeaweedFS with a presigned POST form, read the image back as the page loaded it, compare bytes."""
import os
import signal
import socket
import struct
import subprocess
import time
import zlib

import pytest
from playwright.sync_api import sync_playwright

from conftest import ROOT, free_port, presignd_binary


def png(width=64, height=48):
    rows = b"".join(
        b"\x00" + b"".join(bytes(((x * 4) & 255, (y * 5) & 255, ((x ^ y) * 3) & 255)) for x in range(width))
        for y in range(height))

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


@pytest.fixture
def demo(seaweed, s3):
    try:
        s3.create_bucket(Bucket="uploads")
    except s3.exceptions.BucketAlreadyOwnedByYou:
        pass
    except Exception as error:  # SeaweedFS answers BucketAlreadyExists for our own bucket
        if "BucketAlreadyExists" not in str(error):
            raise
    port = free_port()
    origin = f"http://127.0.0.1:{port}"
    # The direct upload is cross-origin: SeaweedFS must allow the page's origin (PutBucketCors works in 4.48).
    s3.put_bucket_cors(Bucket="uploads", CORSConfiguration={"CORSRules": [{
        "AllowedOrigins": [origin], "AllowedMethods": ["GET", "POST", "PUT"], "AllowedHeaders": ["*"],
        "ExposeHeaders": ["ETag"], "MaxAgeSeconds": 600}]})
    proc = subprocess.Popen([presignd_binary(), "serve", "--listen", f"127.0.0.1:{port}", "--admin-listen", "off",
                             "--workers", "1"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            env=dict(os.environ, PRESIGND_DEV_S3_ENDPOINT=seaweed))
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.05)
    yield origin
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=20)


def test_upload_in_chromium_and_read_the_image_back(demo, s3):
    image = png()
    shot = os.path.join(ROOT, ".build", "browser-demo.png")
    os.makedirs(os.path.dirname(shot), exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"], headless=True)
        try:
            page = browser.new_page()
            page.goto(f"{demo}/demo")
            assert page.title() == "presignd — browser upload demo"
            page.set_input_files("#file", files=[{"name": "generated.png", "mimeType": "image/png", "buffer": image}])
            with page.expect_response(lambda r: r.request.method == "GET" and "/uploads/demo/" in r.url) as loaded:
                page.click("#go")
            page.wait_for_selector("body[data-state=done]", timeout=20000)
            shown = loaded.value.body()
            key = page.get_attribute("body", "data-key")
            log = page.inner_text("#log")
            # The image is really displayed: the browser decoded it at its natural size.
            size = page.eval_on_selector("#result", "img => [img.naturalWidth, img.naturalHeight]")
            page.screenshot(path=shot, full_page=True)
        finally:
            browser.close()
    assert shown == image
    assert s3.get_object(Bucket="uploads", Key=key)["Body"].read() == image
    assert size == [64, 48]
    lines = log.splitlines()
    assert lines[0] == f"presignd ({demo}, same origin): POST /v1/presign post_object → 200"
    assert lines[1].startswith("SeaweedFS (http://127.0.0.1:") and "cross-origin, direct): POST /uploads/" in lines[1]
    assert lines[1].endswith(f"({len(image)} bytes) → 204")
    assert lines[2] == f"presignd ({demo}, same origin): POST /v1/presign get → 200"
    assert lines[3].endswith("→ shown below")
    assert os.path.getsize(shot) > 1000
