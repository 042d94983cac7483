"""Shared fixtures and the one copy of each helper the integration tests use (issue 22: no local copies):

- servers: the presignd binary (`presignd`, `ServeProcess`), SeaweedFS started by scripts/seaweedfs.sh (`seaweed`,
  `s3`, `bucket`), redis-server (`RedisServer`, `redis_servers`); a server that cannot start FAILS the test, never
  skips it;
- `request`: one HTTP request (redirects never followed) → (status, headers, body bytes);
- `PresigndConfig`: a presignd config file written from a dict over `CONFIG_DEFAULTS` (with `backend`,
  `api_key_sha256`), in its own directory with the secret files a test needs;
- `scrape`/`metric`/`metric_by`: /metrics parsed into samples, one sample (or the sum of a family) by name and labels;
- `wait_for(predicate, timeout, what)`: polls until the predicate holds, or fails naming what it waited for.
"""
import hashlib
import http.client
import json
import os
import re
import time
import resource
import signal
import socket
import subprocess
import tempfile
import urllib.parse
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


_GIVEN_PORTS = set()


def free_port():
    """A loopback port nobody listens on now, never the same one twice in a session. presignd listens with
    SO_REUSEPORT, so two listeners given one port (a server's public and admin listener, or two servers) both
    start and the kernel splits the connections between them: test_log_backpressure once saw 404, the admin
    listener's answer to POST /v1/presign, when its two free_port() calls returned the same port."""
    while True:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port not in _GIVEN_PORTS:
            _GIVEN_PORTS.add(port)
            return port


def _listening_inodes(port):
    """The inodes of the TCP sockets in LISTEN on `port` (any address), from /proc/net/tcp and tcp6."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as f:
            for line in f.readlines()[1:]:
                fields = line.split()
                if fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:
                    found.add(fields[9])
    return found


def server_has_read(client):
    """Whether the server has read every byte `client` (a connected socket) sent: the server's end of the
    connection, found in /proc/net/tcp(6) by the two ports, has an empty receive queue. Lets a test know the server
    holds a request before it acts (closes, sends another), whatever order the server's loop reads sockets in."""
    mine = client.getsockname()[1]
    theirs = client.getpeername()[1]
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as f:
            for line in f.readlines()[1:]:
                fields = line.split()
                local, remote = int(fields[1].rsplit(":", 1)[1], 16), int(fields[2].rsplit(":", 1)[1], 16)
                if local == theirs and remote == mine:
                    return int(fields[4].split(":")[1], 16) == 0
    return False


def _socket_inodes(pid):
    inodes = set()
    try:
        names = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return inodes
    for name in names:
        try:
            target = os.readlink(f"/proc/{pid}/fd/{name}")
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    return inodes


def _owners(inodes):
    """`pid (command)` of the processes holding these socket inodes (for the message when a port is shared)."""
    owners = set()
    for pid in filter(str.isdigit, os.listdir("/proc")):
        if _socket_inodes(pid) & inodes:
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    command = f.read().replace(b"\0", b" ").decode(errors="replace").strip()
                owners.add(f"{pid} ({command[:200]})")
            except OSError:
                pass
    return sorted(owners)


def _listen_ports(args, port):
    """The ports `presignd serve ARGS` was told to listen on (--listen, --admin-listen), and `port`."""
    ports = [port]
    for flag, value in zip(args, args[1:]):
        if flag in ("--listen", "--admin-listen") and value != "off":
            ports.append(int(value.rsplit(":", 1)[1]))
    named = ports[1:]
    assert len(set(named)) == len(named), f"presignd serve {args}: one port for two listeners"
    return sorted(set(ports))


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
        ports = _listen_ports(args, port)
        self.dir = tempfile.mkdtemp(prefix=prefix)
        self.log = open(os.path.join(self.dir, "out.log"), "wb")
        # pipe_stdout: stdout is a pipe the test reads (or not) from `proc.stdout`; the file keeps stderr.
        self.proc = subprocess.Popen([presignd_binary(), "serve", *args],
                                     stdout=subprocess.PIPE if pipe_stdout else self.log,
                                     stderr=self.log if pipe_stdout else subprocess.STDOUT,
                                     env=dict(os.environ, **(env or {})))
        # Started when this process listens on each of its ports: a connection that succeeds proves nothing when
        # another process listens there too (SO_REUSEPORT lets both bind), so the sockets are read from /proc.
        for _ in range(300):
            if self.proc.poll() is not None:
                break
            mine = _socket_inodes(self.proc.pid)
            listening = {p: _listening_inodes(p) for p in ports}
            if all(inodes & mine for inodes in listening.values()):
                foreign = {p: inodes - _socket_inodes(self.proc.pid) for p, inodes in listening.items()}
                if any(foreign.values()):
                    self.proc.kill()
                    raise AssertionError(f"another process listens on presignd's port too (SO_REUSEPORT would split the "
                                         f"connections between them): " + "; ".join(
                                             f"{p}: {_owners(inodes)}" for p, inodes in foreign.items() if inodes))
                return
            time.sleep(0.05)
        self.proc.kill()
        raise AssertionError("presignd did not start: " + self.output())

    def connect(self, timeout=5):
        """A new client connection to the listener."""
        return socket.create_connection(self.address, timeout=timeout)

    def url(self, path, port=None):
        host = f"[{self.address[0]}]" if ":" in self.address[0] else self.address[0]
        return f"http://{host}:{port or self.address[1]}{path}"

    def request(self, method, path, body=None, port=None, **options):
        """`request` to this server's listener (or `port` on its host)."""
        return request(method, self.url(path, port), body, **options)

    def send_raw(self, data, timeout=30):
        """`data` (request bytes, ending with `Connection: close`) on a new connection: every byte of the answer,
        read until the server closes."""
        with socket.create_connection(self.address, timeout=timeout) as sock:
            sock.sendall(data)
            return read_to_end(sock)

    def healthz(self):
        """GET /healthz on a new connection: (status, body)."""
        status, _, body = self.request("GET", "/healthz")
        return status, body

    def metric(self, name, **labels):
        """`metric` on this server's /metrics."""
        return metric(self.url("/metrics"), name, **labels)

    def metric_by(self, name, label, **labels):
        """`metric_by` on this server's /metrics."""
        return metric_by(self.url("/metrics"), name, label, **labels)

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


# ---------------------------------------------------------------------------------------------------------------
# One HTTP request


class Headers(dict):
    """A response's header fields, names as sent; lookups ignore case (`h["location"]`, `h.get("Retry-After")`)."""

    def __init__(self, fields):
        super().__init__(fields)
        self._lower = {name.lower(): name for name in self}

    def __getitem__(self, name):
        return super().__getitem__(self._lower.get(name.lower(), name))

    def __contains__(self, name):
        return name.lower() in self._lower

    def get(self, name, default=None):
        return self[name] if name in self else default


def request(method, url, body=None, headers=None, *, bearer=None, timeout=30, source=None, connection=None, sink=None):
    """One HTTP/1.1 request, redirects never followed: (status, `Headers`, body bytes).

    `body`: None (no body), bytes or str (sent as is), anything else is sent as JSON with Content-Type
    application/json. `bearer` adds `Authorization: Bearer …`; `source` is the client address (any 127.x is this
    host). A new connection is opened and closed unless `connection` (an http.client.HTTPConnection the caller
    keeps alive) is given. With `sink`, the body is handed to it in pieces of 1 MiB as it arrives (and b"" is
    returned): for bodies too big to hold."""
    parts = urllib.parse.urlsplit(url)
    fields = {}
    if body is not None and not isinstance(body, (bytes, bytearray, str)):
        body = json.dumps(body).encode()
        fields["Content-Type"] = "application/json"
    if bearer:
        fields["Authorization"] = f"Bearer {bearer}"
    fields.update(headers or {})
    conn = connection or http.client.HTTPConnection(
        parts.hostname, parts.port or 80, timeout=timeout, source_address=(source, 0) if source else None)
    try:
        conn.request(method, parts.path + (f"?{parts.query}" if parts.query else ""), body=body, headers=fields)
        response = conn.getresponse()
        if sink is None:
            return response.status, Headers(response.getheaders()), response.read()
        while piece := response.read(1 << 20):
            sink(piece)
        return response.status, Headers(response.getheaders()), b""
    finally:
        if connection is None:
            conn.close()


def read_response(sock, buffered=b""):
    """Reads one answer with a Content-Length (or none) from a raw socket, after `buffered` bytes already read:
    (status, lower-cased headers, body, the bytes after it)."""
    data = buffered
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise EOFError(data)
        data += chunk
    head, rest = data.split(b"\r\n\r\n", 1)
    lines = head.decode().split("\r\n")
    status = int(lines[0].split(" ")[1])
    headers = {k.lower(): v for k, v in (line.split(": ", 1) for line in lines[1:])}
    length = int(headers.get("content-length", "0"))
    while len(rest) < length:
        chunk = sock.recv(65536)
        if not chunk:
            raise EOFError(rest)
        rest += chunk
    return status, headers, rest[:length], rest[length:]


def read_to_end(sock):
    """Every byte `sock` receives until the peer closes."""
    data = b""
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            return data
        data += chunk


HEALTHZ_CLOSE = b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"


# ---------------------------------------------------------------------------------------------------------------
# One metrics scraper

_SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)(?: \d+)?$")
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def scrape(url, timeout=10):
    """GET `url` (a server's /metrics): its samples as (name, {label: value}, float value); the answer must be 200."""
    status, _, body = request("GET", url, timeout=timeout)
    assert status == 200, (status, body[:500])
    samples = []
    for line in body.decode().splitlines():
        sample = _SAMPLE.match(line)
        if sample and not line.startswith("#"):
            samples.append((sample[1], dict(_LABEL.findall(sample[2] or "")), float(sample[3])))
    return samples


def metric(url, name, **labels):
    """The value of the sample `name{labels}` at `url`, summed over the samples whose labels include `labels` (the
    workers' and any other label's); 0 when there is none."""
    return sum(value for sample, have, value in scrape(url) if sample == name and labels.items() <= have.items())


def metric_by(url, name, label, **labels):
    """{value of `label`: the summed value} over the samples of `name` whose labels include `labels`."""
    out = {}
    for sample, have, value in scrape(url):
        if sample == name and label in have and labels.items() <= have.items():
            out[have[label]] = out.get(have[label], 0) + value
    return out


# ---------------------------------------------------------------------------------------------------------------
# One wait


def wait_for(predicate, timeout=10.0, what="the condition", interval=0.05):
    """Calls `predicate` every `interval` seconds until it returns something true, and returns that; fails naming
    `what` (text, or a function giving it then, to show the state at the end) once `timeout` seconds have passed."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what() if callable(what) else what}")
        time.sleep(interval)


# ---------------------------------------------------------------------------------------------------------------
# One config builder

# What every test config has unless it says otherwise (`--listen` on the command line wins over `listen`).
CONFIG_DEFAULTS = {"listen": "127.0.0.1:0", "access_log": False}


def api_key_sha256(key):
    return hashlib.sha256(key.encode()).hexdigest()


def backend(endpoint="http://127.0.0.1:9", access_env="S3_ACCESS", secret_env="S3_SECRET", **extra):
    """A backend in path style on us-east-1 whose keys come from the environment (`credentials=` instead)."""
    made = {"endpoint": endpoint, "dialect": "aws-v4", "region": "us-east-1", "addressing": "path"}
    if access_env:
        made.update(access_key_env=access_env, secret_key_env=secret_env)
    made.update(extra)
    return made


def _merged(base, over):
    out = dict(base)
    for key, value in over.items():
        if value is None:
            out.pop(key, None)
        elif isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merged(out[key], value)
        else:
            out[key] = value
    return out


def _substituted(value, directory):
    if isinstance(value, str):
        return value.replace("@DIR@", directory)
    if isinstance(value, dict):
        return {k: _substituted(v, directory) for k, v in value.items()}
    if isinstance(value, list):
        return [_substituted(v, directory) for v in value]
    return value


class PresigndConfig:
    """A presignd config file, `path`, in a new directory `dir` of its own: `settings` over `CONFIG_DEFAULTS` (a key
    set to None is left out), written as JSON (which is YAML); `@DIR@` in any string is `dir`. `files` ({name: text})
    are written into `dir` first (tokens, secrets, key sets). `write(settings)` rewrites it (then SIGHUP);
    `write_text(text)` writes exact YAML (for check-config's messages about the text itself)."""

    def __init__(self, settings=None, files=None, prefix="presignd-", text=None):
        self.dir = tempfile.mkdtemp(prefix=prefix)
        self.path = os.path.join(self.dir, "presignd.yaml")
        for name, content in (files or {}).items():
            with open(os.path.join(self.dir, name), "w") as f:
                f.write(content)
        if text is not None:
            self.write_text(text)
        else:
            self.write(settings or {})

    def write(self, settings):
        self.settings = _substituted(_merged(CONFIG_DEFAULTS, settings), self.dir)
        self.write_text(json.dumps(self.settings, indent=1) + "\n")

    def write_text(self, text):
        with open(self.path, "w") as f:
            f.write(text)


# ---------------------------------------------------------------------------------------------------------------
# redis-server

REDIS_SERVER = "/usr/bin/redis-server"


def resp(*args):
    """A RESP command (an array of bulk strings)."""
    out = b"*%d\r\n" % len(args)
    for a in args:
        a = a if isinstance(a, bytes) else str(a).encode()
        out += b"$%d\r\n%s\r\n" % (len(a), a)
    return out


def redis_command(port, *args, password=None, timeout=1.0):
    """One command on a new connection (after AUTH when given); the first line of the reply, as text."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        replies = []
        for command in ([("AUTH", password)] if password else []) + [args]:
            s.sendall(resp(*command))
            data = b""
            while b"\r\n" not in data:
                chunk = s.recv(65536)
                if not chunk:
                    raise ConnectionError("redis closed the connection")
                data += chunk
            replies.append(data.split(b"\r\n", 1)[0].decode())
        return replies[-1]


class RedisServer:
    """`redis-server` on 127.0.0.1:`port`, no persistence; `start()` returns once PING answers PONG (and records
    when: `ready_at`, monotonic). `kill()` is SIGKILL; `freeze()`/`thaw()` are SIGSTOP/SIGCONT."""

    def __init__(self, port=None, password=None):
        self.port = port or free_port()
        self.password = password
        self.dir = tempfile.mkdtemp(prefix="presignd-redis-")
        self.proc = None
        self.ready_at = None

    def start(self):
        args = [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                "--dir", self.dir, "--daemonize", "no"]
        if self.password:
            args += ["--requirepass", self.password]
        log = open(os.path.join(self.dir, "redis.log"), "ab")
        try:
            self.proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT)
        except OSError as error:
            pytest.fail(f"redis-server did not start: {error}", pytrace=False)
        finally:
            log.close()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                break
            try:
                if redis_command(self.port, "PING", password=self.password, timeout=0.2) == "+PONG":
                    self.ready_at = time.monotonic()
                    return self
            except OSError:
                pass
            time.sleep(0.01)
        self.kill()
        with open(os.path.join(self.dir, "redis.log"), "rb") as f:
            pytest.fail(f"redis-server did not start on port {self.port}: {f.read().decode(errors='replace')[-2000:]}",
                        pytrace=False)

    def command(self, *args):
        return redis_command(self.port, *args, password=self.password)

    def kill(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGCONT)
            self.proc.kill()
            self.proc.wait(timeout=10)

    def freeze(self):
        self.proc.send_signal(signal.SIGSTOP)

    def thaw(self):
        self.proc.send_signal(signal.SIGCONT)


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
