"""Rotating backend credentials, shared by test_credentials_container and test_credentials_sources: presignd with
one rotating backend (`Presignd`), credential sets (`set_for`), and the check that a URL's key id, token and SigV4
signature all belong to one set (`check_whole_set`)."""
import datetime
import hashlib
import hmac
import secrets
import time
import urllib.parse

from harness.config import PresigndConfig, api_key_sha256, backend
from harness.process import ServeProcess, free_port

API_KEY = "cred-test-key-0123456789"


def iso(epoch):
    return datetime.datetime.fromtimestamp(int(epoch), datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def set_for(n, lifetime):
    return {"AccessKeyId": f"ASIAROT{n:04d}", "SecretAccessKey": f"secret-{n:04d}-{secrets.token_hex(4)}",
            "Token": f"token-{n:04d}-{secrets.token_hex(8)}", "Expiration": iso(time.time() + lifetime)}


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
