"""The integration tests' fixtures, and the names they import (`from conftest import X`): the one copy of each
helper lives in the `harness` package by concern (issue 22: no local copies), re-exported here:

- servers: the presignd binary (`presignd`, `ServeProcess`), SeaweedFS started by scripts/seaweedfs.sh (`seaweed`,
  `s3`, `bucket`), redis-server (`RedisServer`, `redis_servers`); a server that cannot start FAILS the test, never
  skips it;
- `request`: one HTTP request (redirects never followed) → (status, headers, body bytes);
- `PresigndConfig`: a presignd config file written from a dict over `CONFIG_DEFAULTS` (with `backend`,
  `api_key_sha256`), in its own directory with the secret files a test needs;
- `scrape`/`metric`/`metric_by`: /metrics parsed into samples, one sample (or the sum of a family) by name and labels;
- `wait_for(predicate, timeout, what)`: polls until the predicate holds, or fails naming what it waited for.
"""
import os
import resource
import subprocess
import tempfile
import uuid

import boto3
import pytest
from botocore.config import Config

# The harness's assertions are rewritten as the tests' are (their failures show the values).
pytest.register_assert_rewrite("harness")

from harness.config import CONFIG_DEFAULTS, PresigndConfig, api_key_sha256, b64url, backend, hs256_jwt  # noqa: E402,F401
from harness.metrics import metric, metric_by, scrape, wait_for  # noqa: E402,F401
from harness.net import (HEALTHZ_CLOSE, Headers, concurrently, read_response, read_to_end, request,  # noqa: E402,F401
                         server_has_read)
from harness.process import ACCESS, ROOT, SECRET, ServeProcess, free_port, presignd_binary  # noqa: E402,F401
from harness.redis_server import REDIS_SERVER, RedisServer, redis_command, resp  # noqa: E402,F401

# Socket tests hold over a thousand connections: raise the soft descriptor limit (children inherit it).
_soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (max(_soft, min(_hard, 65536)), _hard))


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


@pytest.fixture
def redis_servers():
    """Starts redis-servers (`make(port=None, password=None)`); every one is killed when the test ends."""
    servers = []

    def make(port=None, password=None):
        server = RedisServer(port, password)
        servers.append(server)
        return server.start()

    yield make
    for server in servers:
        server.kill()
