"""Heap allocations per keep-alive request, held in CI (issue 23): the release binary serves the six hot routes
(harness/hot_routes.py, the routes `make bench-instructions` measures) through its real sockets, one worker, with
malloc_count.so preloaded: every call into the C allocator on every thread of the server is counted (the client is
this process, not counted). Each route is sent WARMUP times, the count read, N times more, the count read again;
(after - before) / N must not exceed the route's committed limit in allocations/limits.json. The counts do not
depend on the machine's speed; the loop's 4 Hz timer adds a few allocations per second of run, far below the one
decimal the limits carry. Lowering a route's count means lowering its limit in the same commit."""
import http.client
import json
import os
import select
import signal
import subprocess
import tempfile

import pytest

from conftest import PresigndConfig, ServeProcess, free_port
from harness import hot_routes

HERE = os.path.dirname(os.path.abspath(__file__))
LIMITS = os.path.join(HERE, "allocations", "limits.json")
WARMUP = 200
N = 1000
REPORT = signal.SIGRTMAX - 3  # malloc_count.c writes its count on this signal


def release_binary():
    path = os.environ.get("PRESIGND_RELEASE_BIN", os.path.join(hot_routes.ROOT, ".build", "release", "presignd"))
    assert os.access(path, os.X_OK), f"no release binary at {path}: `make test` builds it (swift build -c release)"
    return path


class Counter:
    """The preloaded counter's reports, read from the pipe it writes to."""

    def __init__(self, read_fd, pid):
        self.fd, self.pid, self.pending = read_fd, pid, b""

    def read(self):
        os.kill(self.pid, REPORT)
        while b"\n" not in self.pending:
            ready, _, _ = select.select([self.fd], [], [], 10)
            assert ready, "malloc_count.so did not report within 10 s (is it preloaded?)"
            chunk = os.read(self.fd, 256)
            assert chunk, "the counter's pipe closed"
            self.pending += chunk
        line, self.pending = self.pending.split(b"\n", 1)
        return int(line)


@pytest.fixture(scope="module")
def counted_server():
    work = tempfile.mkdtemp(prefix="presignd-allocs-")
    library = os.path.join(work, "malloc_count.so")
    subprocess.run(["cc", "-shared", "-fPIC", "-O2", "-Wall", "-Werror", "-o", library,
                    os.path.join(HERE, "allocations", "malloc_count.c"), "-ldl"], check=True)
    port = free_port()
    config = PresigndConfig(text=hot_routes.config_text(port, os.path.join(work, "links.sqlite")), prefix="presignd-allocs-")
    read_fd, write_fd = os.pipe()
    env = dict(hot_routes.ENV, LD_PRELOAD=library, PRESIGND_MALLOC_COUNT_FD=str(write_fd))
    server = ServeProcess(["--config", config.path, "--workers", "1", "--admin-listen", "off", "--access-log", "off"],
                          port, env=env, binary=release_binary(), pass_fds=(write_fd,), prefix="presignd-allocs-")
    os.close(write_fd)
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    yield server, Counter(read_fd, server.proc.pid), dict(hot_routes.routes(connection))
    connection.close()
    server.stop()
    os.close(read_fd)


with open(LIMITS) as _f:
    _LIMITS = json.load(_f)


@pytest.mark.parametrize("route", list(_LIMITS["per_request"]))
def test_allocations_per_request_stay_within_the_committed_limit(counted_server, route):
    server, counter, routes = counted_server
    connection = http.client.HTTPConnection(*server.address, timeout=60)
    hot_routes.send(connection, routes[route], WARMUP)
    before = counter.read()
    hot_routes.send(connection, routes[route], N)
    after = counter.read()
    connection.close()
    per_request = round((after - before) / N, 1)
    limit = _LIMITS["per_request"][route]
    print(f"{route}: {per_request} allocations/request (limit {limit})")
    assert per_request > 0, f"{route}: no allocation counted: the counter is not working"
    assert per_request <= limit, f"{route}: {per_request} allocations/request, over the committed limit {limit}"
