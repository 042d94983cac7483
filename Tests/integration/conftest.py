"""Shared fixtures: the presignd binary and a SeaweedFS server started by scripts/seaweedfs.sh.

Tests that need SeaweedFS fail (never skip) when it cannot start.
"""
import os
import time
import resource
import signal
import socket
import subprocess
import tempfile
import uuid

import boto3
import pytest
from botocore.config import Config

# Socket tests hold over a thousand connections: raise the soft descriptor limit (children inherit it).
_soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (max(_soft, min(_hard, 65536)), _hard))

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ACCESS = "AKIDPRESIGNTEST"
SECRET = "presign-test-secret-0123456789abcdef"


def presignd_binary():
    path = os.environ.get("PRESIGND_BIN", os.path.join(ROOT, ".build", "debug", "presignd"))
    assert os.access(path, os.X_OK), f"presignd binary not found at {path}; run swift build"
    return path


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def presignd():
    binary = presignd_binary()

    def run(*args, env=None, check=True):
        result = subprocess.run([binary, *args], capture_output=True, text=True, env=env, timeout=30)
        if check:
            assert result.returncode == 0, f"presignd {' '.join(args)} failed: {result.stderr}"
        return result

    return run


@pytest.fixture(scope="session")
def seaweed():
    workdir = tempfile.mkdtemp(prefix="presignd-seaweed-")
    port = free_port()
    script = os.path.join(ROOT, "scripts", "seaweedfs.sh")
    started = subprocess.run([script, "start", workdir, str(port)], capture_output=True, text=True, timeout=60)
    if started.returncode != 0:
        pytest.fail(f"SeaweedFS did not start: {started.stderr.strip()}", pytrace=False)
    endpoint = started.stdout.strip()
    try:
        yield endpoint
    finally:
        subprocess.run([script, "stop", workdir], timeout=30)


@pytest.fixture(scope="session")
def s3(seaweed):
    """A boto3 client used only for set-up and for reading SeaweedFS's own copy of objects."""
    return boto3.client(
        "s3", endpoint_url=seaweed, region_name="us-east-1", aws_access_key_id=ACCESS,
        aws_secret_access_key=SECRET, config=Config(signature_version="s3v4", s3={"addressing_style": "path"}))


@pytest.fixture(scope="session")
def bucket(s3):
    name = "presign-" + uuid.uuid4().hex[:12]
    s3.create_bucket(Bucket=name)
    return name


class ServeProcess:
    """`presignd serve ARGS` with its output (stdout and stderr) in a file (stdout on a pipe with `pipe_stdout`); started when `host:port` accepts
    connections, and `connect()` opens a client connection there. `stop()` sends SIGTERM, requires exit status 0,
    and under `make test-asan` requires no sanitizer report in the output."""

    def __init__(self, args, port, env=None, prefix="presignd-", host="127.0.0.1", pipe_stdout=False):
        self.address = (host, port)
        self.dir = tempfile.mkdtemp(prefix=prefix)
        self.log = open(os.path.join(self.dir, "out.log"), "wb")
        # pipe_stdout: stdout is a pipe the test reads (or not) from `proc.stdout`; the file keeps stderr.
        self.proc = subprocess.Popen([presignd_binary(), "serve", *args],
                                     stdout=subprocess.PIPE if pipe_stdout else self.log,
                                     stderr=self.log if pipe_stdout else subprocess.STDOUT,
                                     env=dict(os.environ, **(env or {})))
        for _ in range(300):
            try:
                socket.create_connection((host, port), timeout=0.2).close()
                return
            except OSError:
                if self.proc.poll() is not None:
                    break
                time.sleep(0.05)
        self.proc.kill()
        raise AssertionError("presignd did not start: " + self.output())

    def connect(self, timeout=5):
        """A new client connection to the listener."""
        return socket.create_connection(self.address, timeout=timeout)

    def output(self):
        if not self.log.closed:
            self.log.flush()
        with open(os.path.join(self.dir, "out.log"), "rb") as f:
            return f.read().decode(errors="replace")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(timeout=20)
        self.log.close()
        assert self.proc.returncode == 0, self.output()[-3000:]
        if os.environ.get("PRESIGND_SANITIZED"):
            assert "Sanitizer" not in self.output(), self.output()[-6000:]


def b64url(data):
    """base64url without padding (JWT segments)."""
    import base64
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def hs256_jwt(claims, secret):
    """A JWT signed with HS256 by hand (the venv has no JWT library)."""
    import hashlib, hmac, json
    header = b64url(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    payload = b64url(json.dumps(claims).encode())
    signature = hmac.new(secret.encode(), f"{header}.{payload}".encode(), hashlib.sha256).digest()
    return f"{header}.{payload}.{b64url(signature)}"


def concurrently(count, request):
    """Opens `count` connections, then sends `request(i)` → (port, method, path, body, headers) on all of them at
    once (a barrier releases them together); the (status, body) answers in order, or (None, error text)."""
    import http.client, threading
    barrier = threading.Barrier(count)
    results = [None] * count

    def run(i):
        port, method, path, body, headers = request(i)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        try:
            conn.connect()
            barrier.wait(timeout=30)
            conn.request(method, path, body=body, headers=headers or {})
            response = conn.getresponse()
            results[i] = (response.status, response.read())
        except Exception as error:  # noqa: BLE001 - recorded, fails the caller's assertion
            results[i] = (None, repr(error))
        finally:
            conn.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results
