"""A hostile S3 answering ListParts with 16 MiB documents within the body cap: 16 MiB of `<a/>`, deep nesting, one
oversized text node. presignd (`--workers 1`) reads the document as it arrives with its bounded XML reader: /healthz
requests sent to the same worker while the document streams in are all answered before the ListParts answer, the
ListParts request gets a 502 naming the bound, presignd stops reading at the bound (the fake cannot deliver the whole
document), and the process RSS grows by less than RSS_BOUND.

Run with `-s` to see the figures (RSS growth, and the longest /healthz wait while a 16 MiB `<a/>` document streams
at full speed); they are printed, not asserted.
"""
import json
import socket
import threading
import time

import pytest

from conftest import HEALTHZ_CLOSE, PresigndConfig, ServeProcess, api_key_sha256, backend, free_port, read_to_end, wait_for

API_KEY = "hostile-s3-key"
MiB = 1024 * 1024
DOCUMENT_BYTES = 16 * MiB
# The reader holds one piece of markup (at most 64 KiB) and curl's buffers; 415 MiB before the bounded reader.
RSS_BOUND = 32 * MiB


def hostile(kind):
    """(document, prefix_chunks): the 16 MiB document, and the pieces of it sent one at a time (each followed by a
    /healthz round trip) before the rest; the prefix is within every bound."""
    head = b'<?xml version="1.0" encoding="UTF-8"?>\n<ListPartsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
    if kind == "elements":
        body = head + b"<a/>" * ((DOCUMENT_BYTES - len(head)) // 4)
        return body, [body[i:i + 128 * 1024] for i in range(0, 512 * 1024, 128 * 1024)]
    if kind == "depth":
        body = head + b"<a>" * ((DOCUMENT_BYTES - len(head)) // 3)
        # The root and 30 levels: one under the bound.
        prefix = len(head) + 30 * 3
        return body, [body[i:min(i + 40, prefix)] for i in range(0, prefix, 40)]
    if kind == "text":
        start = head + b"<Part><PartNumber>1</PartNumber><ETag>"
        body = start + b"x" * (DOCUMENT_BYTES - len(start))
        return body, [body[i:i + 16 * 1024] for i in range(0, len(start) + 48 * 1024, 16 * 1024)]
    raise ValueError(kind)


class FakeS3:
    """A loopback S3 that answers CreateMultipartUpload, then ListParts with `document`: it sends each prefix chunk
    and waits for `go` after each, then the rest in one sendall, recording whether all of it was delivered."""

    def __init__(self, document, prefix_chunks, gated=True):
        self.document = document
        self.prefix_chunks = prefix_chunks
        self.gated = gated
        self.chunk_sent = threading.Semaphore(0)
        self.go = threading.Semaphore(0)
        self.streaming = threading.Event()
        self.delivered_all = None
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(16)
        self.port = self.listener.getsockname()[1]
        threading.Thread(target=self.accept, daemon=True).start()

    def accept(self):
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self.serve, args=(conn,), daemon=True).start()

    def serve(self, conn):
        data = b""
        with conn:
            while True:
                while b"\r\n\r\n" not in data:
                    chunk = conn.recv(65536)
                    if not chunk:
                        return
                    data += chunk
                head, data = data.split(b"\r\n\r\n", 1)
                lines = head.decode().split("\r\n")
                length = next((int(l.split(":", 1)[1]) for l in lines if l.lower().startswith("content-length:")), 0)
                while len(data) < length:
                    data += conn.recv(65536)
                data = data[length:]
                method, target = lines[0].split(" ")[:2]
                if method == "POST" and "uploads" in target:
                    xml = (b'<?xml version="1.0" encoding="UTF-8"?>\n<InitiateMultipartUploadResult><Bucket>b</Bucket>'
                           b"<Key>k</Key><UploadId>hostile-upload</UploadId></InitiateMultipartUploadResult>")
                    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/xml\r\nContent-Length: %d\r\n\r\n" % len(xml) + xml)
                    continue
                if method == "GET" and "uploadId=hostile-upload" in target:
                    self.list_parts(conn)
                    return
                conn.sendall(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")

    def list_parts(self, conn):
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/xml\r\nContent-Length: %d\r\n\r\n" % len(self.document))
        self.streaming.set()
        sent = 0
        try:
            for chunk in self.prefix_chunks if self.gated else []:
                conn.sendall(chunk)
                sent += len(chunk)
                self.chunk_sent.release()
                assert self.go.acquire(timeout=60)
            conn.sendall(self.document[sent:])
            self.delivered_all = True
        except OSError:
            self.delivered_all = False

    def close(self):
        self.listener.close()


class Service(ServeProcess):
    def __init__(self, endpoint):
        self.port = free_port()
        path = PresigndConfig({
            "backends": {"main": backend(endpoint, "H_S3_ACCESS", "H_S3_SECRET", request_timeout=60)},
            "callers": [{"name": "alpha", "auth": {"api_key_sha256": api_key_sha256(API_KEY)},
                         "rules": [{"operations": ["put"], "bucket": "b", "key": "*", "max_expires_in": 3600}]}],
            "uploads": {"token_secret_env": "H_TOKEN_SECRET"},
        }, prefix="presignd-hostile-").path
        super().__init__(["--config", path, "--listen", f"127.0.0.1:{self.port}", "--workers", "1",
                          "--admin-listen", "off", "--access-log", "off"], self.port,
                         env=dict(H_S3_ACCESS="AKIDHOSTILE", H_S3_SECRET="hostile-secret", H_TOKEN_SECRET="t" * 32),
                         prefix="presignd-hostile-")

    def create_upload(self):
        status, _, body = self.request("POST", "/v1/uploads", {"bucket": "b", "key": "k"}, bearer=API_KEY)
        assert status == 201, body
        return json.loads(body)["upload"]

    def memory(self):
        """(VmRSS, VmHWM) in bytes."""
        with open(f"/proc/{self.proc.pid}/status") as f:
            fields = dict(line.split(":", 1) for line in f.read().splitlines() if ":" in line)
        return tuple(int(fields[name].split()[0]) * 1024 for name in ("VmRSS", "VmHWM"))

    def healthz_raw(self):
        return self.send_raw(HEALTHZ_CLOSE, timeout=120)


class ListParts:
    """GET /v1/uploads/{upload}/parts on its own connection; `answer` once it has fully arrived."""

    def __init__(self, port, upload):
        self.answer = None
        self.done = threading.Event()
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=120)
        self.sock.sendall(f"GET /v1/uploads/{upload}/parts HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {API_KEY}\r\n"
                          "Connection: close\r\n\r\n".encode())
        threading.Thread(target=self.read, daemon=True).start()

    def read(self):
        with self.sock:
            self.answer = read_to_end(self.sock)
        self.done.set()


@pytest.mark.parametrize("kind,message", [
    ("elements", "XML with more than 250000 elements"),
    ("depth", "XML nested deeper than 32 levels"),
    ("text", "text over 65536 bytes in <ETag>"),
])
def test_a_hostile_list_parts_document_is_cut_at_its_bound_while_the_worker_serves(kind, message):
    document, prefix = hostile(kind)
    assert len(document) <= DOCUMENT_BYTES
    fake = FakeS3(document, prefix)
    service = Service(f"http://127.0.0.1:{fake.port}")
    try:
        upload = service.create_upload()
        rss_before, _ = service.memory()
        listing = ListParts(service.port, upload)
        order = []
        for number in range(len(prefix)):
            assert fake.chunk_sent.acquire(timeout=60)
            assert service.healthz_raw().startswith(b"HTTP/1.1 200 OK\r\n")
            # The bound is not crossed yet: the listing is still waiting on its document.
            order.append("healthz" if not listing.done.is_set() else "listing-first")
            fake.go.release()
        assert listing.done.wait(timeout=120)
        order.append("listing")
        assert order == ["healthz"] * len(prefix) + ["listing"]
        status_line, _, rest = listing.answer.partition(b"\r\n")
        assert status_line == b"HTTP/1.1 502 Bad Gateway"
        body = rest.split(b"\r\n\r\n", 1)[1]
        assert json.loads(body) == {"error": {"code": "BadGateway", "message": f"unreadable backend response: {message}"}}
        # presignd stopped reading at the bound: the rest of the 16 MiB never went in.
        wait_for(lambda: fake.delivered_all is not None, 30, "the fake to deliver its document or be cut off")
        assert fake.delivered_all is False
        rss_after, _ = service.memory()
        print(f"\n{kind}: VmRSS grew by {(rss_after - rss_before) / MiB:.1f} MiB")
        assert rss_after - rss_before < RSS_BOUND
        assert service.healthz_raw().startswith(b"HTTP/1.1 200 OK\r\n")
    finally:
        service.stop()
        fake.close()


def test_figures_for_a_16_mib_document_of_tiny_elements():
    """The document at full speed, /healthz back to back meanwhile: prints the longest wait and the RSS growth
    (peak and after), for the notes. Nothing is asserted on time."""
    document, _ = hostile("elements")
    fake = FakeS3(document, [], gated=False)
    service = Service(f"http://127.0.0.1:{fake.port}")
    try:
        upload = service.create_upload()
        rss_before, peak_before = service.memory()
        listing = ListParts(service.port, upload)
        assert fake.streaming.wait(timeout=60)
        waits = []
        while not listing.done.is_set():
            started = time.monotonic()
            assert service.healthz_raw().startswith(b"HTTP/1.1 200 OK\r\n")
            waits.append(time.monotonic() - started)
        rss_after, peak_after = service.memory()
        status = listing.answer.split(b"\r\n", 1)[0].decode()
        print(f"\nListParts answer: {status}; /healthz answered {len(waits)} times while "
              f"it streamed, longest waits {[f'#{i}: {w * 1000:.1f} ms' for w, i in sorted(((w, i) for i, w in enumerate(waits)), reverse=True)[:3]]}; VmRSS +{(rss_after - rss_before) / MiB:.1f} MiB, "
              f"VmHWM +{(peak_after - peak_before) / MiB:.1f} MiB")
    finally:
        service.stop()
        fake.close()
