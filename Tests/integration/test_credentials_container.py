"""Rotating backend credentials end to end, from a container credentials endpoint (`credentials:
{container_endpoint}`) on loopback handing out sets with a session token and a short expiry, rotating on every
fetch; it can be made to fail (500), time out, or answer malformed JSON. Every URL is checked by recomputing its
SigV4 signature with the secret of the set its key id names, and its token must be that same set's. (Web identity,
rotating files and SeaweedFS's session tokens: test_credentials_sources.py.)

Presigning needs no backend connection, so the backend is a closed port.
"""
import datetime
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from conftest import PresigndConfig, api_key_sha256, wait_for
from harness.credentials import API_KEY, Presignd, check_whole_set, iso, query, set_for

MARGIN = 5


class FakeEndpoint:
    """Container credentials: GET /creds with Authorization must equal `token`. `mode`: ok, fail, slow, garbage."""

    def __init__(self, lifetime=12, token="agent-token-123"):
        self.lifetime = lifetime
        self.token = token
        self.mode = "ok"
        self.issued = []
        self.hits = 0
        self.unauthorized = 0
        self.lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                with outer.lock:
                    outer.hits += 1
                    mode = outer.mode
                if self.headers.get("Authorization") != outer.token:
                    with outer.lock:
                        outer.unauthorized += 1
                    return self.answer(401, b'{"Code":"Unauthorized"}')
                if mode == "fail":
                    return self.answer(500, b"agent broken")
                if mode == "slow":
                    time.sleep(7)
                    return self.answer(500, b"late")
                if mode == "garbage":
                    return self.answer(200, b'{"AccessKeyId": "ASIA", "SecretAccessKey": ')
                with outer.lock:
                    made = set_for(len(outer.issued) + 1, outer.lifetime)
                    outer.issued.append(made)
                self.answer(200, json.dumps(made).encode())

            def answer(self, status, body):
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                try:
                    self.wfile.write(body)
                except OSError:
                    pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def by_key(self, key):
        with self.lock:
            return next((s for s in self.issued if s["AccessKeyId"] == key), None)

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def unavailable_body():
    return (b'{"error":{"code":"CredentialsUnavailable","message":"backend \'main\' has no usable credentials right now '
            b'(they are being refreshed); retry later"}}')


def test_container_endpoint_rotates_clamps_and_fails_over_to_503():
    fake = FakeEndpoint(lifetime=12)
    token = "agent-token-123"
    server = Presignd({"container_endpoint": f"http://127.0.0.1:{fake.port}/creds", "authorization_token_file": "@DIR@/token",
                       "refresh_margin_seconds": MARGIN}, files={"token": token + "\n"})
    try:
        status, _, raw = wait_for(lambda: (r := server.presign()) and r[0] == 200 and r, 15, "the first set", interval=0.1)
        first = check_whole_set(json.loads(raw)["url"], fake.by_key)
        assert first == "ASIAROT0001"
        assert fake.unauthorized == 0

        # Clamp: asked for an hour, the set expires in ~12 s: expires_at is its expiry minus the margin, exactly.
        clamped_before = server.metric("presignd_expiry_clamped_total")
        status, _, raw = server.presign(expires_in=3600)
        reply = json.loads(raw)
        assert status == 200
        q = query(reply["url"])
        used = fake.by_key(q["X-Amz-Credential"].split("/")[0])
        signed_at = datetime.datetime.strptime(q["X-Amz-Date"], "%Y%m%dT%H%M%SZ").replace(tzinfo=datetime.timezone.utc).timestamp()
        expiry = datetime.datetime.strptime(used["Expiration"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.timezone.utc).timestamp()
        assert reply["expires_clamped"] is True
        assert reply["expires_at"] == iso(expiry - MARGIN)
        assert reply["requested_expires_at"] == iso(signed_at + 3600)
        assert int(q["X-Amz-Expires"]) == int(expiry - MARGIN - signed_at)
        assert list(reply) == ["url", "method", "headers", "expires_at", "expires_clamped", "requested_expires_at", "signature_version"]
        assert server.metric("presignd_expiry_clamped_total") == clamped_before + 1
        short = json.loads(server.presign(expires_in=1)[2])
        assert "expires_clamped" not in short and "requested_expires_at" not in short

        # Refresh ahead of expiry (one margin before the margin): presign continuously; the key changes, never a 503.
        seen = set()
        deadline = time.monotonic() + 20
        while len(seen) < 3 and time.monotonic() < deadline:
            status, _, raw = server.presign()
            assert status == 200, raw
            seen.add(check_whole_set(json.loads(raw)["url"], fake.by_key))
            time.sleep(0.05)
        assert len(seen) >= 3, seen

        # Malformed JSON: a clear log line, the old set kept.
        fake.mode = "garbage"
        wait_for(lambda: "malformed credentials document: not valid JSON" in server.output(), 15, "the malformed-JSON log line", interval=0.1)
        status, _, raw = server.presign()
        assert status == 200
        check_whole_set(json.loads(raw)["url"], fake.by_key)

        # Failing: the last set serves until its margin, then 503 CredentialsUnavailable with Retry-After.
        fake.mode = "fail"
        last_key = None
        while True:
            status, headers, raw = server.presign()
            if status != 200:
                break
            last_key = check_whole_set(json.loads(raw)["url"], fake.by_key)
            time.sleep(0.05)
        assert status == 503 and raw == unavailable_body() and headers.get("Retry-After") == "5", (status, raw)
        last = fake.by_key(last_key)
        expiry = datetime.datetime.strptime(last["Expiration"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.timezone.utc).timestamp()
        assert time.time() >= expiry - MARGIN - 1
        assert "the endpoint answered HTTP 500" in server.output()
        assert "credentials unavailable: answering 503" in server.output()

        # A timeout is one more failure; then the endpoint recovers and signing resumes.
        fake.mode = "slow"
        wait_for(lambda: "timeout" in server.output().lower(), 25, "the timeout log line", interval=0.1)
        fake.mode = "ok"
        status, _, raw = wait_for(lambda: (r := server.presign()) and r[0] == 200 and r, 70, "recovery", interval=0.1)
        check_whole_set(json.loads(raw)["url"], fake.by_key)
        assert fake.unauthorized == 0
    finally:
        server.stop()
        fake.close()


def test_container_endpoint_must_be_loopback_or_link_local(presignd, tmp_path):
    config = PresigndConfig(text=f"""
backends:
  main: {{endpoint: "http://127.0.0.1:9", dialect: aws-v4, credentials: {{container_endpoint: "http://10.1.2.3/creds"}}}}
callers:
  - {{name: app, auth: {{api_key_sha256: "{api_key_sha256(API_KEY)}"}}, rules: [{{operations: [get], bucket: media, max_expires_in: 60}}]}}
""", prefix="presignd-cred-")
    result = presignd("check-config", config.path, check=False)
    assert result.returncode != 0
    assert ("backends.main.credentials.container_endpoint: host '10.1.2.3' is not loopback or link-local "
            "(127.0.0.0/8, ::1, localhost, 169.254.0.0/16, fe80::/10, fd00:ec2::23)") in result.stderr


def test_min_expires_in_refuses_a_too_short_url():
    fake = FakeEndpoint(lifetime=40)
    rules = [{"operations": ["put"], "bucket": "media", "key": "*", "max_expires_in": 3600, "min_expires_in": 600}]
    server = Presignd({"container_endpoint": f"http://127.0.0.1:{fake.port}/creds", "refresh_margin_seconds": MARGIN}, rules=rules)
    fake.token = None
    try:
        wait_for(lambda: server.presign()[0] == 200, 15, "the first set", interval=0.1)
        status, headers, raw = server.presign(expires_in=3600, operation="put")
        assert (status, raw, headers.get("Retry-After")) == (503, unavailable_body(), "5")
        status, _, raw = server.presign(expires_in=3600, operation="get")
        assert status == 200 and json.loads(raw)["expires_clamped"] is True
    finally:
        server.stop()
        fake.close()
