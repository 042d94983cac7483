"""Rotating backend credentials end to end, against fakes on loopback:

- A container credentials endpoint (`credentials: {container_endpoint}`) handing out sets with a session token and a
  short expiry, rotating on every fetch; it can be made to fail (500), time out, or answer malformed JSON. Every URL
  is checked by recomputing its SigV4 signature with the secret of the set its key id names, and its token must be
  that same set's.
- A fake STS serving the documented AssumeRoleWithWebIdentity XML (`credentials: {web_identity}`): SeaweedFS 4.48
  does check session tokens (a URL with an unknown X-Amz-Security-Token is 403 InvalidAccessKeyId, see
  test_seaweedfs_rejects_unknown_session_tokens) and has an STS endpoint, but issuing through it needs an OIDC
  provider and IAM role configuration this harness does not set up, so the web-identity path runs against the fake.
- A credentials file rewritten in a loop (rename into place, and Kubernetes' `..data` symlink swap) while two
  clients presign continuously: no request fails and no URL mixes two sets.

Presigning needs no backend connection, so the backend is a closed port except where SeaweedFS is named.
"""
import datetime
import hashlib
import hmac
import json
import os
import secrets
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import boto3
from botocore.config import Config

from conftest import ACCESS, SECRET, PresigndConfig, ServeProcess, api_key_sha256, backend, free_port, request, wait_for

API_KEY = "cred-test-key-0123456789"
MARGIN = 5


def iso(epoch):
    return datetime.datetime.fromtimestamp(int(epoch), datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def set_for(n, lifetime):
    return {"AccessKeyId": f"ASIAROT{n:04d}", "SecretAccessKey": f"secret-{n:04d}-{secrets.token_hex(4)}",
            "Token": f"token-{n:04d}-{secrets.token_hex(8)}", "Expiration": iso(time.time() + lifetime)}


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


class Presignd(ServeProcess):
    """presignd with one rotating backend; `@DIR@` in `credentials` is this server's own directory, where `files`
    are written (and `prepare(dir)` runs) before it starts; `rules` are the caller's rules after its get rule."""

    def __init__(self, credentials, rules=(), files=None, workers=2, prepare=None):
        self.port = free_port()
        settings = PresigndConfig(files=files, prefix="presignd-cred-")
        self.dir_ = settings.dir
        if prepare:
            prepare(self.dir_)
        self.workers = workers
        settings.write({
            "audit_log": False,
            "backends": {"main": backend(access_env=None, credentials=credentials)},
            "callers": [{"name": "app", "auth": {"api_key_sha256": api_key_sha256(API_KEY)},
                         "rules": [{"operations": ["get"], "bucket": "media", "key": "*", "max_expires_in": 3600}, *rules]}],
        })
        self.config = settings.path
        self.start()

    def start(self):
        ServeProcess.__init__(self, ["--config", self.config, "--listen", f"127.0.0.1:{self.port}", "--workers",
                                     str(self.workers), "--admin-listen", "off"], self.port, prefix="presignd-cred-")

    def presign(self, expires_in=60, operation="get"):
        return self.request("POST", "/v1/presign", {"operation": operation, "bucket": "media", "key": "a/b.txt", "expires_in": expires_in},
                            bearer=API_KEY, timeout=15)


def query(url):
    return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query, keep_blank_values=True))


def sigv4_valid(url, secret):
    """Recomputes a presigned GET's SigV4 query signature (host-only, UNSIGNED-PAYLOAD) with `secret`."""
    parts = urllib.parse.urlsplit(url)
    pairs = urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
    signature = dict(pairs)["X-Amz-Signature"]
    enc = lambda s: urllib.parse.quote(s, safe="-_.~")
    canonical_query = "&".join(f"{enc(k)}={enc(v)}" for k, v in sorted(pairs) if k != "X-Amz-Signature")
    canonical = "\n".join(["GET", parts.path, canonical_query, f"host:{parts.netloc}", "", "host", "UNSIGNED-PAYLOAD"])
    q = dict(pairs)
    date = q["X-Amz-Date"]
    scope = q["X-Amz-Credential"].split("/", 1)[1]
    to_sign = "\n".join(["AWS4-HMAC-SHA256", date, scope, hashlib.sha256(canonical.encode()).hexdigest()])
    key = ("AWS4" + secret).encode()
    for piece in scope.split("/"):
        key = hmac.new(key, piece.encode(), hashlib.sha256).digest()
    return hmac.compare_digest(hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest(), signature)


def check_whole_set(url, sets_by_key):
    """The URL's key id names a set; its token and its signature are that set's."""
    q = query(url)
    key = q["X-Amz-Credential"].split("/")[0]
    chosen = sets_by_key(key)
    assert chosen is not None, f"unknown key id {key}"
    assert q["X-Amz-Security-Token"] == chosen["Token"], f"mixed set: {key} with token {q['X-Amz-Security-Token']}"
    assert sigv4_valid(url, chosen["SecretAccessKey"]), f"signature of {key} does not verify with its own secret"
    return key


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


class FakeSTS:
    """AssumeRoleWithWebIdentity as the STS API reference documents it (form POST, XML answer)."""

    def __init__(self, token, lifetime=900):
        self.token = token
        self.forms = []
        self.issued = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                form = dict(urllib.parse.parse_qsl(self.rfile.read(int(self.headers["Content-Length"])).decode()))
                outer.forms.append((self.headers.get("Content-Type"), form))
                if form.get("WebIdentityToken") != outer.token:
                    body = (b'<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type>'
                            b'<Code>InvalidIdentityToken</Code><Message>bad token</Message></Error><RequestId>1</RequestId></ErrorResponse>')
                    return self.answer(400, body)
                made = set_for(len(outer.issued) + 1, lifetime)
                outer.issued.append(made)
                body = f"""<AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <AssumeRoleWithWebIdentityResult>
    <SubjectFromWebIdentityToken>system:serviceaccount:media:presignd</SubjectFromWebIdentityToken>
    <AssumedRoleUser><Arn>arn:aws:sts::123456789012:assumed-role/presignd/presignd-main</Arn><AssumedRoleId>AROA:presignd-main</AssumedRoleId></AssumedRoleUser>
    <Credentials>
      <SessionToken>{made["Token"]}</SessionToken>
      <SecretAccessKey>{made["SecretAccessKey"]}</SecretAccessKey>
      <Expiration>{made["Expiration"]}</Expiration>
      <AccessKeyId>{made["AccessKeyId"]}</AccessKeyId>
    </Credentials>
    <Audience>sts.amazonaws.com</Audience>
  </AssumeRoleWithWebIdentityResult>
  <ResponseMetadata><RequestId>ad4156e9-bce1-11e2-82e6-6b6efEXAMPLE</RequestId></ResponseMetadata>
</AssumeRoleWithWebIdentityResponse>""".encode()
                self.answer(200, body)

            def answer(self, status, body):
                self.send_response(status)
                self.send_header("Content-Type", "text/xml")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def by_key(self, key):
        return next((s for s in self.issued if s["AccessKeyId"] == key), None)

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def test_web_identity_against_a_fake_sts():
    token = "eyJhbGciOiJSUzI1NiJ9.projected-sa-token." + secrets.token_hex(8)
    sts = FakeSTS(token)
    server = Presignd({"web_identity": {"role_arn": "arn:aws:iam::123456789012:role/presignd", "token_file": "@DIR@/token",
                                        "sts_endpoint": f"http://127.0.0.1:{sts.port}/", "duration_seconds": 900}}, files={"token": token})
    try:
        status, _, raw = wait_for(lambda: (r := server.presign()) and r[0] == 200 and r, 15, "the STS set", interval=0.1)
        assert check_whole_set(json.loads(raw)["url"], sts.by_key) == "ASIAROT0001"
        content_type, form = sts.forms[-1]
        assert content_type == "application/x-www-form-urlencoded; charset=utf-8"
        assert form == {"Action": "AssumeRoleWithWebIdentity", "Version": "2011-06-15",
                        "RoleArn": "arn:aws:iam::123456789012:role/presignd", "RoleSessionName": "presignd-main",
                        "WebIdentityToken": token, "DurationSeconds": "900"}
        reply = json.loads(server.presign(expires_in=3600)[2])
        assert reply["expires_clamped"] is True
    finally:
        server.stop()
        sts.close()


def publish(live, n, s, k8s):
    """Kubernetes layout: creds.json -> ..data/creds.json, ..data -> ..vN swapped by rename; or an INI file renamed
    into place (a sidecar)."""
    if k8s:
        version = os.path.join(live, f"..v{n}")
        os.makedirs(version)
        with open(os.path.join(version, "creds.json"), "w") as f:
            json.dump(s, f)
        tmp = os.path.join(live, "..data_tmp")
        os.symlink(f"..v{n}", tmp)
        os.replace(tmp, os.path.join(live, "..data"))
        if not os.path.lexists(os.path.join(live, "creds.json")):
            os.symlink("..data/creds.json", os.path.join(live, "creds.json"))
    else:
        tmp = os.path.join(live, "creds.tmp")
        with open(tmp, "w") as f:
            f.write(f"[default]\naws_access_key_id = {s['AccessKeyId']}\naws_secret_access_key = {s['SecretAccessKey']}\n"
                    f"aws_session_token = {s['Token']}\nexpiration = {s['Expiration']}\n")
        os.replace(tmp, os.path.join(live, "plain.ini"))


def rotate_under_load(k8s):
    sets = {}
    lock = threading.Lock()

    def make(n):
        made = set_for(n, 3600)
        with lock:
            sets[made["AccessKeyId"]] = made
        return made

    base = 1 if k8s else 5001
    first = make(base)

    def prepare(directory):
        os.makedirs(os.path.join(directory, "secret"))
        publish(os.path.join(directory, "secret"), base, first, k8s)

    name = "creds.json" if k8s else "plain.ini"
    server = Presignd({"file": f"@DIR@/secret/{name}"}, prepare=prepare)
    live = os.path.join(server.dir_, "secret")
    stop = threading.Event()
    failures, keys = [], []

    def client():
        while not stop.is_set():
            status, _, raw = server.presign()
            if status != 200:
                failures.append((status, raw))
                continue
            try:
                keys.append(check_whole_set(json.loads(raw)["url"], lambda k: sets.get(k)))
            except AssertionError as error:
                failures.append(str(error))

    threads = [threading.Thread(target=client) for _ in range(2)]
    try:
        for t in threads:
            t.start()
        rotations = 40
        for n in range(base + 1, base + rotations + 1):
            publish(live, n, make(n), k8s)
            time.sleep(0.05)
        last = f"ASIAROT{base + rotations:04d}"
        wait_for(lambda: keys and keys[-1] == last, 15, f"the last set ({last})", interval=0.1)
    finally:
        stop.set()
        for t in threads:
            t.join()
        server.stop()
    assert failures == [], failures[:5]
    assert len(set(keys)) >= 5, f"only {len(set(keys))} sets seen in {len(keys)} requests"
    print(f"{'k8s symlink swap' if k8s else 'rename'}: {len(keys)} presigns, {len(set(keys))} distinct sets, 0 failures")


def test_rotating_file_kubernetes_symlink_swap_under_load():
    rotate_under_load(k8s=True)


def test_rotating_ini_file_rename_under_load():
    rotate_under_load(k8s=False)


def test_seaweedfs_rejects_unknown_session_tokens(seaweed, s3, bucket):
    """Why the container and file tests check signatures locally: SeaweedFS 4.48 validates X-Amz-Security-Token."""
    s3.put_object(Bucket=bucket, Key="token-probe", Body=b"x")
    cfg = Config(signature_version="s3v4", s3={"addressing_style": "path"})
    plain = boto3.client("s3", endpoint_url=seaweed, region_name="us-east-1", aws_access_key_id=ACCESS,
                         aws_secret_access_key=SECRET, config=cfg)
    tokened = boto3.client("s3", endpoint_url=seaweed, region_name="us-east-1", aws_access_key_id=ACCESS,
                           aws_secret_access_key=SECRET, aws_session_token="not-a-seaweed-session", config=cfg)
    assert request("GET", plain.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "token-probe"}))[0] == 200
    status, _, body = request("GET", tokened.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "token-probe"}))
    assert status == 403, "SeaweedFS accepted an unknown session token"
    assert b"<Code>InvalidAccessKeyId</Code>" in body
