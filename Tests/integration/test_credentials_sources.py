"""Rotating backend credentials end to end, from the other sources, against fakes on loopback:

- A fake STS serving the documented AssumeRoleWithWebIdentity XML (`credentials: {web_identity}`): SeaweedFS 4.48
  does check session tokens (a URL with an unknown X-Amz-Security-Token is 403 InvalidAccessKeyId, see
  test_seaweedfs_rejects_unknown_session_tokens) and has an STS endpoint, but issuing through it needs an OIDC
  provider and IAM role configuration this harness does not set up, so the web-identity path runs against the fake.
- A credentials file rewritten in a loop (rename into place, and Kubernetes' `..data` symlink swap) while two
  clients presign continuously: no request fails and no URL mixes two sets.

(The container credentials endpoint: test_credentials_container.py.) Presigning needs no backend connection, so the
backend is a closed port except where SeaweedFS is named.
"""
import json
import os
import secrets
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import boto3
from botocore.config import Config

from conftest import ACCESS, SECRET, request, wait_for
from harness.credentials import Presignd, check_whole_set, set_for


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
