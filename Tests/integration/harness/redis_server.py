"""redis-server for the tests, and RESP by hand."""
import os
import signal
import socket
import subprocess
import tempfile
import time

import pytest

from harness.process import free_port

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
