"""A log reader that stops reading never stalls a request: `presignd serve` with stdout on a pipe nobody reads
(a stuck log shipper) keeps answering, drops log lines it cannot hold and counts them
(`presignd_log_lines_dropped_total{stream}`), refuses grants it cannot audit (`audit_on_backpressure: refuse`,
503 `AuditUnavailable`) or grants and counts the dropped audit lines (`drop`), and when the reader comes back
lines flow again, whole."""
import http.client
import json
import os
import threading
import time
import uuid

from conftest import PresigndConfig, ServeProcess, api_key_sha256, backend, free_port, wait_for

API_KEY = "backpressure-key-" + uuid.uuid4().hex
ADMIN_TOKEN = "backpressure-admin-" + uuid.uuid4().hex
ACCESS = "AKIDBACKPRESSURE"
SECRET = "backpressure-secret-0123456789abcdef"
ADMIN_AUDIT_UNAVAILABLE = (b'{"error":{"code":"AuditUnavailable","message":"the audit log cannot take this call\'s line right '
                           b'now (stdout is not being read fast enough); nothing was done; retry later"}}')
AUDIT_UNAVAILABLE = (b'{"error":{"code":"AuditUnavailable","message":"the audit log cannot take this grant\'s line right '
                     b'now (stdout is not being read fast enough); nothing was granted; retry later"}}')


def config(policy, buffer_bytes):
    return {
        "access_log": True,
        "audit_log": True,
        "audit_on_backpressure": policy,
        "server": {"log_buffer_bytes": buffer_bytes, "audit_buffer_bytes": buffer_bytes},
        "backends": {"main": backend(access_env="BP_ACCESS", secret_env="BP_SECRET")},
        "callers": [{"name": "shipper-test", "auth": {"api_key_sha256": api_key_sha256(API_KEY)},
                     "rules": [{"name": "all", "operations": ["get", "put"], "bucket": "logs", "key": "*", "max_expires_in": 3600}]}],
        "admin": {"token_sha256": [api_key_sha256(ADMIN_TOKEN)]},
    }


class StuckShipper(ServeProcess):
    """presignd with its stdout on a pipe this test does not read until `resume()`."""

    def __init__(self, policy, buffer_bytes=65536):
        self.port = free_port()
        self.admin_port = free_port()
        path = PresigndConfig(config(policy, buffer_bytes), prefix="presignd-backpressure-").path
        super().__init__(["--config", path, "--listen", f"127.0.0.1:{self.port}", "--workers", "1",
                          "--admin-listen", f"127.0.0.1:{self.admin_port}"], self.port, env=dict(BP_ACCESS=ACCESS, BP_SECRET=SECRET),
                         prefix="presignd-backpressure-", pipe_stdout=True)
        self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=15)
        self.read = bytearray()
        self.lock = threading.Lock()
        self.reader = None

    def ask(self, method, path, body=None, headers=None):
        """A request on the one kept-alive connection."""
        return self.request(method, path, body, headers=headers, connection=self.conn)

    def presign(self, key, request_id=None):
        headers = {"Authorization": f"Bearer {API_KEY}", "Content-Type": "application/json"}
        if request_id:
            headers["X-Request-Id"] = request_id
        body = json.dumps({"operation": "get", "bucket": "logs", "key": key}).encode()
        return self.ask("POST", "/v1/presign", body, headers)

    def dropped(self):
        return {stream: int(value) for stream, value in self.metric_by("presignd_log_lines_dropped_total", "stream").items()}

    def resume(self):
        """The shipper reads again: everything on the pipe from now on is collected."""
        def drain():
            while True:
                chunk = os.read(self.proc.stdout.fileno(), 65536)
                if not chunk:
                    return
                with self.lock:
                    self.read += chunk
        self.reader = threading.Thread(target=drain, daemon=True)
        self.reader.start()

    def collected(self):
        with self.lock:
            return bytes(self.read)

    def read_until(self, needle, times):
        """Waits (bounded) until `needle` was read from stdout `times` times; the bytes read so far."""
        return wait_for(lambda: (text := self.collected()).count(needle) >= times and text, 20,
                        lambda: f"{needle} to reach stdout {times} times: {self.collected()[-2000:]!r}")

    def close(self):
        self.conn.close()
        self.stop()


def complete_lines(data):
    """Every complete line read; each must be one JSON object."""
    lines = data.split(b"\n")[:-1]
    for line in lines:
        assert isinstance(json.loads(line), dict), line
    return lines


def test_healthz_keeps_answering_far_past_a_full_pipe_and_access_drops_are_counted():
    server = StuckShipper("refuse")
    try:
        # 5,000 access lines are about 750 KB: more than ten times the 64 KiB pipe. Before the fix the worker
        # blocked in write(2) after some 640 of them and /healthz never answered again.
        for _ in range(5000):
            status, _, body = server.ask("GET", "/healthz")
            assert (status, body) == (200, b'{"status":"ok"}')
        dropped = server.dropped()
        assert dropped["access"] > 0
        assert dropped["audit"] == 0
    finally:
        server.close()


def test_refuse_answers_503_instead_of_an_unaudited_grant_and_grants_again_when_the_reader_resumes():
    server = StuckShipper("refuse")
    try:
        statuses = []
        refused = None
        for n in range(4000):
            status, headers, body = server.presign(f"k/{n}")
            statuses.append(status)
            if status != 200:
                refused = (status, headers, body)
                break
        assert refused is not None, "the audit buffer never filled"
        status, headers, body = refused
        assert status == 503
        assert body == AUDIT_UNAVAILABLE
        assert headers.get("Retry-After") == "5"
        assert set(statuses[:-1]) == {200}
        # Refused, not granted: no audit line was dropped, and the next grant is refused too.
        assert server.dropped()["audit"] == 0
        assert server.presign("k/again")[0] == 503
        # The admin proxy (same worker) refuses too, before asking the backend anything.
        status, headers, body = server.request("GET", "/admin/v1/buckets", port=server.admin_port, bearer=ADMIN_TOKEN, timeout=15)
        assert (status, body, headers.get("Retry-After")) == (503, ADMIN_AUDIT_UNAVAILABLE, "5")

        # The shipper reads again: grants resume, and their lines arrive whole.
        server.resume()
        marker = "resume-" + uuid.uuid4().hex
        for _ in range(400):
            status, _, body = server.presign("k/after-resume", request_id=marker)
            if status == 200:
                break
            assert (status, body) == (503, AUDIT_UNAVAILABLE)
            time.sleep(0.05)
        assert status == 200 and json.loads(body)["url"].startswith("http://127.0.0.1:9/logs/k/after-resume?")
        # Its audit line and its access line (written once the answer is sent).
        text = server.read_until(f'"client_request_id":"{marker}"'.encode(), 2)
        lines = complete_lines(text)
        mine = [json.loads(line) for line in lines if marker.encode() in line]
        assert sorted(line.get("audit", "access") for line in mine) == ["access", "presign"], mine
        audit = next(line for line in mine if line.get("audit") == "presign")
        assert (audit["caller"], audit["operation"], audit["bucket"], audit["key"]) == ("shipper-test", "get", "logs", "k/after-resume")
        assert server.dropped()["audit"] == 0
    finally:
        server.close()


def test_drop_grants_and_counts_the_audit_lines_it_could_not_hold():
    server = StuckShipper("drop")
    try:
        for n in range(1500):
            status, _, body = server.presign(f"k/{n}")
            assert status == 200, body
        dropped = server.dropped()
        assert dropped["audit"] > 0
        assert dropped["access"] > 0
        # The reader resumes: a new grant's audit line and access line arrive whole.
        server.resume()
        # Lines queued before the reader came back drain first; until then a new line may still be dropped, so
        # each try has its own marker.
        for attempt in range(200):
            marker = f"drop-resume-{attempt}-{uuid.uuid4().hex}"
            assert server.presign("k/after", request_id=marker)[0] == 200
            time.sleep(0.05)
            if any(marker.encode() in line and b'"audit":"presign"' in line for line in server.collected().split(b"\n")):
                break
        text = server.read_until(f'"client_request_id":"{marker}"'.encode(), 2)
        lines = complete_lines(text)
        assert any(b'"audit":"presign"' in line and marker.encode() in line for line in lines)
        assert any(b'"path":"/v1/presign"' in line and marker.encode() in line for line in lines)
    finally:
        server.close()
