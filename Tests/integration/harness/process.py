"""The presignd binary and its processes: ports never handed out twice, listeners read from /proc, `ServeProcess`."""
import os
import signal
import socket
import subprocess
import tempfile
import time

from harness.metrics import metric, metric_by
from harness.net import read_to_end, request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
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


class ServeProcess:
    """`presignd serve ARGS` with its output (stdout and stderr) in a file (stdout on a pipe with `pipe_stdout`); started when `host:port` accepts
    connections, and `connect()` opens a client connection there. `stop()` sends SIGTERM, requires exit status 0,
    and under `make test-asan` requires no sanitizer report in the output. `binary` replaces $PRESIGND_BIN;
    `pass_fds` are inherited by the server."""

    def __init__(self, args, port, env=None, prefix="presignd-", host="127.0.0.1", pipe_stdout=False, binary=None,
                 pass_fds=()):
        self.address = (host, port)
        ports = _listen_ports(args, port)
        self.dir = tempfile.mkdtemp(prefix=prefix)
        self.log = open(os.path.join(self.dir, "out.log"), "wb")
        # pipe_stdout: stdout is a pipe the test reads (or not) from `proc.stdout`; the file keeps stderr.
        self.proc = subprocess.Popen([binary or presignd_binary(), "serve", *args], pass_fds=pass_fds,
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
