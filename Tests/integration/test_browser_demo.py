"""The browser demo in real Chromium (Debian's, driven by Playwright offline): pick a generated PNG, upload it
straight to SeaweedFS with a presigned POST form, read the image back as the page loaded it, compare bytes, share
it and open the share link in another tab (its use count goes to 1); and the
large-file mode: a 64 MiB file in 8 MiB parts through the multipart API, one part dropped once and retried, the
SHA-256 of SeaweedFS's copy compared."""
import hashlib
import json
import os
import struct
import tempfile
import urllib.parse
import zlib

import pytest
from playwright.sync_api import sync_playwright

from conftest import ROOT, ServeProcess, free_port, request


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
    # The dev profile's share links go to a fresh SQLite file, not the developer's .cache one.
    links = os.path.join(tempfile.mkdtemp(prefix="presignd-demo-links-"), "links.sqlite")
    server = ServeProcess(["--listen", f"127.0.0.1:{port}", "--admin-listen", "off", "--workers", "1"], port,
                          env=dict(PRESIGND_DEV_S3_ENDPOINT=seaweed, PRESIGND_DEV_LINKS_PATH=links), prefix="presignd-demo-")
    yield origin
    server.stop()


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
            # Share it: the page makes a link and shows it with its use count (0).
            page.click("#share")
            page.wait_for_selector("body[data-share-uses='0']", timeout=20000)
            link_id = page.get_attribute("body", "data-share-id")
            shown_url = page.inner_text("#shareLink")
            href = page.get_attribute("#shareLink", "href")
            uses_before = page.inner_text("#shareUses")
            # Open the link in a second tab (a fresh context: the link needs no key): presignd redirects to SeaweedFS.
            tab = browser.new_page()
            opened = tab.goto(href)
            opened_url, opened_status, opened_bytes = opened.url, opened.status, opened.body()
            first_hop = opened.request.redirected_from
            tab.close()
            page.click("#shareRefresh")
            page.wait_for_selector("body[data-share-uses='1']", timeout=20000)
            uses_after = page.inner_text("#shareUses")
            log = page.inner_text("#log")
            page.screenshot(path=shot, full_page=True)
        finally:
            browser.close()
    assert len(link_id) == 32
    # The dev profile's public_base_url is fixed (http://127.0.0.1:8080); the page opens the link on its own origin.
    assert shown_url == f"http://127.0.0.1:8080/l/{link_id}" and href == f"{demo}/l/{link_id}"
    assert first_hop is not None and first_hop.url == href
    assert opened_status == 200 and opened_url.startswith(f"{s3.meta.endpoint_url}/uploads/")
    assert opened_bytes == image
    assert (uses_before, uses_after) == ("0", "1")
    assert shown == image
    assert s3.get_object(Bucket="uploads", Key=key)["Body"].read() == image
    assert size == [64, 48]
    lines = log.splitlines()
    assert lines[0] == f"presignd ({demo}, same origin): POST /v1/presign post_object → 200"
    assert lines[1].startswith("SeaweedFS (http://127.0.0.1:") and "cross-origin, direct): POST /uploads/" in lines[1]
    assert lines[1].endswith(f"({len(image)} bytes) → 204")
    assert lines[2] == f"presignd ({demo}, same origin): POST /v1/presign get → 200"
    assert lines[3].endswith("→ shown below")
    assert lines[4:] == [f"presignd ({demo}, same origin): POST /v1/links → 201",
                         f"presignd ({demo}, same origin): GET /v1/links/{{id}} → 200",
                         f"presignd ({demo}, same origin): GET /v1/links/{{id}} → 200"]
    assert os.path.getsize(shot) > 1000


def test_large_file_in_parts_with_one_part_retried(demo, s3, tmp_path):
    """64 MiB in 8 parts: signed in batches of 4, 4 PUTs in flight straight to SeaweedFS. The first PUT of part 3 is
    dropped (Playwright aborts it), so the page must retry it. The signing of parts 5-8 is held until parts 1-4
    are stored, so the screenshot of the progress bar is taken at a known point: 32.0 MiB of 64.0 MiB (50%)."""
    size = 64 * 1024 * 1024
    data = os.urandom(size)
    digest = hashlib.sha256(data).hexdigest()
    path = tmp_path / "large.bin"
    path.write_bytes(data)  # Playwright refuses in-memory files over 50 MB: pass a path
    shot = "/tmp/progress.png"
    dropped, held, signed_batches, puts = [], [], [], []

    def on_put(route):
        request = route.request
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(request.url).query)
        number = int(query["partNumber"][0])
        if request.method == "PUT":
            puts.append(number)
            if number == 3 and not dropped:
                dropped.append(request.url)
                route.abort("connectionreset")
                return
        route.continue_()

    def on_sign(route):
        request = route.request
        if request.method == "POST":
            numbers = [part["number"] for part in json.loads(request.post_data)["parts"]]
            signed_batches.append(numbers)
            if 5 in numbers and not held:
                held.append(route)  # continued after the screenshot
                return
        route.continue_()

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"], headless=True)
        try:
            page = browser.new_page(viewport={"width": 900, "height": 900})
            page.route(lambda url: "partNumber=" in url, on_put)
            page.route("**/v1/uploads/*/parts", on_sign)
            page.goto(f"{demo}/demo")
            page.set_input_files("#bigFile", str(path))
            page.click("#bigGo")
            # Mid-upload: parts 1-4 stored (part 3 on its second attempt), parts 5-8 waiting for their URLs.
            page.wait_for_function("document.querySelectorAll('#parts span.done').length === 4", timeout=60000)
            assert len(held) == 1
            bar_mid = page.inner_text("#barText")
            now_mid = page.get_attribute("#bar", "aria-valuenow")
            page.locator("#bar").scroll_into_view_if_needed()
            page.screenshot(path=shot)
            held[0].continue_()
            page.wait_for_selector("body[data-big-state=done]", timeout=120000)
            key = page.get_attribute("body", "data-big-key")
            bar_end = page.inner_text("#barText")
            log = page.inner_text("#bigLog").splitlines()
            link = page.get_attribute("#download", "href")
            link_text = page.inner_text("#download")
        finally:
            browser.close()

    assert bar_mid == "32.0 MiB of 64.0 MiB (50%)" and now_mid == "50"
    assert bar_end == "64.0 MiB of 64.0 MiB (100%)"
    assert os.path.getsize(shot) > 1000
    # Part 3 was dropped once and sent again (re-signed alone); every other part went once.
    assert len(dropped) == 1
    assert sorted(puts) == [1, 2, 3, 3, 4, 5, 6, 7, 8]
    assert signed_batches == [[1, 2, 3, 4], [3], [5, 6, 7, 8]] or signed_batches == [[1, 2, 3, 4], [5, 6, 7, 8], [3]]
    assert [line for line in log if "part 3 failed" in line] == ["page: part 3 failed (network error), attempt 1 of 3"]
    assert sum(" PUT part " in line and "→ ETag" in line for line in log) == 8
    assert log[0] == f"presignd ({demo}, same origin): POST /v1/uploads → 201"
    assert log[-2] == f"presignd ({demo}, same origin): POST /v1/uploads/{{upload}}/complete → 200"
    assert log[-1] == f"presignd ({demo}, same origin): POST /v1/presign → 200"
    # What SeaweedFS holds is the file, byte for byte; and the page's download link serves it.
    stored = s3.get_object(Bucket="uploads", Key=key)
    assert stored["ContentLength"] == size
    assert hashlib.sha256(stored["Body"].read()).hexdigest() == digest
    assert stored["ETag"].endswith('-8"')
    assert link_text.startswith("Download large.bin (64.0 MiB)")
    status, headers, body = request("GET", link, timeout=60)
    assert status == 200 and headers["Content-Disposition"] == 'attachment; filename="large.bin"'
    assert hashlib.sha256(body).hexdigest() == digest
    # Nothing left in progress.
    uploads = s3.list_multipart_uploads(Bucket="uploads").get("Uploads", [])
    assert [u for u in uploads if u["Key"] == key] == []
