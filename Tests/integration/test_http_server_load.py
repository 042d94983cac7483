"""Real-socket tests against `presignd serve`, its listeners and its load: one port for two listeners refused, IPv6,
a thousand concurrent connections, drain on SIGTERM, the connection limit, streamed and pipelined answers and
memory that stays bounded. (One connection's exact bytes, limits and smuggling: test_http_server.py.)"""
import json
import os
import signal
import socket
import subprocess
import threading
import time

import pytest

from conftest import free_port, presignd_binary, read_response
from harness.http_server import HEALTH_BODY, serve


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")


@pytest.mark.parametrize("public,admin", [("127.0.0.1", "127.0.0.1"), ("0.0.0.0", "127.0.0.1"), ("127.0.0.1", "0.0.0.0")])
def test_one_port_for_the_public_and_the_admin_listener_is_refused(public, admin):
    """With SO_REUSEPORT both listeners bound one port and the kernel split the connections: POST /v1/presign
    answered 404 from the admin routes about half the time (test_log_backpressure once saw it)."""
    port = free_port()
    try:
        result = subprocess.run([presignd_binary(), "serve", "--listen", f"{public}:{port}", "--admin-listen", f"{admin}:{port}",
                                 "--workers", "1"], capture_output=True, text=True, timeout=10)
    except subprocess.TimeoutExpired:
        raise AssertionError("presignd served with one port for both listeners")
    assert (result.returncode, result.stderr) == (1, f"presignd: error: the admin listener {admin}:{port} and the public "
                                                     f"listener {public}:{port} share port {port}; give the admin listener "
                                                     "a port of its own\n")


def test_ipv6_listener_works():
    s = serve(workers=1, host="::1")
    try:
        sock = s.connect()
        sock.sendall(b"GET /healthz HTTP/1.1\r\n\r\n")
        status, _, body, _ = read_response(sock)
        assert (status, body) == (200, HEALTH_BODY)
    finally:
        s.stop()


def test_a_thousand_concurrent_connections_all_get_answers():
    s = serve(workers=2)
    try:
        sockets = []
        for _ in range(1000):
            sockets.append(s.connect())
        for sock in sockets:
            sock.sendall(b"GET /healthz HTTP/1.1\r\n\r\n")
        answered = sum(1 for sock in sockets if read_response(sock)[2] == HEALTH_BODY)
        assert answered == 1000
        for sock in sockets:
            sock.close()
    finally:
        s.stop()


def test_sigterm_lets_a_slow_request_finish_then_exits_zero():
    s = serve("--drain-seconds", "10")
    try:
        sock = s.connect()
        sock.sendall(b"POST /healthz HTTP/1.1\r\nContent-Length: 6\r\n\r\nabc")
        time.sleep(0.2)
        s.proc.send_signal(signal.SIGTERM)
        time.sleep(0.3)
        assert s.proc.poll() is None  # still draining
        try:
            s.connect(timeout=0.5).close()
            refused = False
        except OSError:
            refused = True
        assert refused  # no longer accepting
        sock.sendall(b"def")
        status, headers, body, _ = read_response(sock)
        assert status == 405 and headers["connection"] == "close"
        assert s.proc.wait(timeout=10) == 0
    finally:
        s.stop()


def test_worker_at_its_connection_limit_stops_accepting_and_resumes_when_one_closes():
    s = serve("--max-connections", "2", workers=1)
    try:
        held = [s.connect(), s.connect()]
        for sock in held:
            sock.sendall(b"GET /healthz HTTP/1.1\r\n\r\n")
            assert read_response(sock)[2] == HEALTH_BODY
        waiting = s.connect()  # completes in the kernel backlog, but the worker does not accept it yet
        waiting.sendall(b"GET /healthz HTTP/1.1\r\n\r\n")
        waiting.settimeout(0.7)
        with pytest.raises(socket.timeout):
            waiting.recv(100)
        held[0].close()
        waiting.settimeout(5)
        assert read_response(waiting)[2] == HEALTH_BODY
    finally:
        s.stop()


def test_streamed_response_arrives_whole_while_the_server_queue_stays_bounded():
    """A slow reader of an 8 MiB chunked stream: exact bytes arrive, and the producer never queued more than its
    high-water mark (256 KiB) plus one 64 KiB chunk, because it waits for the write callbacks."""
    total = 8 * 1024 * 1024
    s = serve("--stream-probe", workers=1)
    try:
        sock = s.connect()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 32 * 1024)
        sock.sendall(f"GET /debug/stream/{total} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        raw = b""
        while b"\r\n0\r\n\r\n" not in raw[-16:]:
            part = sock.recv(16 * 1024)
            assert part, "connection closed before the stream ended"
            raw += part
            time.sleep(0.0005)  # a slow client: the server must wait for it, not buffer
        head, _, chunked = raw.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 200 OK\r\n") and b"Transfer-Encoding: chunked" in head
        body = bytearray()
        rest = chunked
        while True:
            size_line, _, rest = rest.partition(b"\r\n")
            size = int(size_line, 16)
            if size == 0:
                assert rest == b"\r\n"
                break
            body += rest[:size]
            assert rest[size:size + 2] == b"\r\n"
            rest = rest[size + 2:]
        expected = bytes(((i * 31 + 7) & 0xFF) for i in range(total))
        assert len(body) == total and bytes(body) == expected
        sock.close()
    finally:
        s.stop()
    done = [json.loads(line) for line in s.output().splitlines() if "stream probe done" in line]
    assert len(done) == 1 and int(done[0]["bytes"]) == total
    assert 0 < int(done[0]["peak_queued"]) <= 256 * 1024 + 64 * 1024


def test_ten_thousand_pipelined_requests_in_one_write_are_answered_in_order():
    """Before the glue queued its actions, each buffered request was dispatched inside the previous one's
    response: about 1,000 of these overflowed the stack and killed the worker (and 500 stalled)."""
    s = serve(workers=1)
    try:
        sock = s.connect()
        sock.settimeout(30)
        count = 10_000
        payload = b"".join(f"GET /missing/{i} HTTP/1.1\r\nHost: x\r\n\r\n".encode() for i in range(count))
        sender = threading.Thread(target=sock.sendall, args=(payload,))
        sender.start()
        leftover = b""
        for i in range(count):
            status, _, body, leftover = read_response(sock, leftover)
            assert (status, body) == (404, b'{"error":{"code":"NotFound","message":"no route for /missing/%d"}}' % i)
        sender.join()
        assert leftover == b""
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        status, _, body, leftover = read_response(sock)
        assert (status, body, leftover) == (200, HEALTH_BODY, b"")
    finally:
        s.stop()


def test_a_client_that_never_reads_its_responses_cannot_grow_server_memory():
    """Pipelined GET /openapi.yaml (about 45 KiB each) with nothing read: the server stops starting requests once
    its output queue is over its bound and stops reading once its input buffer is full, so the sender blocks.
    Server RSS stays within 64 MiB of idle, and other clients are served meanwhile."""
    s = serve(workers=1)
    try:
        probe = s.connect()
        probe.sendall(b"GET /openapi.yaml HTTP/1.1\r\nHost: x\r\n\r\n")
        assert read_response(probe)[0] == 200
        idle = rss_kib(s.proc.pid)
        hog = s.connect()
        hog.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16 * 1024)
        hog.setblocking(False)
        request = b"GET /openapi.yaml HTTP/1.1\r\nHost: x\r\n\r\n" * 1000
        sent = 0
        deadline = time.time() + 8
        while time.time() < deadline:
            try:
                sent += hog.send(request)
            except BlockingIOError:
                time.sleep(0.01)
        grown = rss_kib(s.proc.pid) - idle
        # The hog could push only what fits in the socket buffers and the server's bounded input buffer.
        assert sent < 64 * 1024 * 1024, sent
        assert grown < 64 * 1024, f"RSS grew by {grown} KiB after {sent} bytes of requests"
        other = s.connect()
        other.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        status, _, body, _ = read_response(other)
        assert (status, body) == (200, HEALTH_BODY)
        hog.close()
    finally:
        s.stop()


def test_half_a_request_left_pending_after_every_write_does_not_keep_what_was_sent():
    """Each write ends halfway through a request, and replies are read. Before the buffer was compacted, RSS grew
    by the bytes sent (12 MB after 12.6 MB)."""
    s = serve(workers=1)
    try:
        sock = s.connect()
        sock.settimeout(10)
        request = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Pad: " + b"p" * 160 + b"\r\n\r\n"
        half = len(request) // 2
        batch = 50
        sock.sendall(request[:half])
        leftover = b""
        idle = None
        rounds = 1600  # 1600 * 50 * ~200 bytes: about 16 MB on one connection
        for r in range(rounds):
            sock.sendall(request[half:] + request * (batch - 1) + request[:half])
            for _ in range(batch):
                status, _, body, leftover = read_response(sock, leftover)
                assert (status, body) == (200, HEALTH_BODY)
            if r == 100:
                idle = rss_kib(s.proc.pid)
        grown = rss_kib(s.proc.pid) - idle
        # Under make test-asan the quarantine holds freed memory, so RSS says nothing there; every answer is still
        # checked above, and LeakSanitizer checks the rest.
        if not os.environ.get("PRESIGND_SANITIZED"):
            assert grown < 4 * 1024, f"RSS grew by {grown} KiB"
    finally:
        s.stop()


def test_a_json_body_of_100000_members_is_answered_not_stalled_on():
    """Any caller with a key could send this: before duplicate members were found with a hash set, the check was
    quadratic and a worker spent over 10 s on it. The status and body are asserted; the time is `make bench-json`."""
    import itertools
    import string
    s = serve(workers=1)
    try:
        alphabet = string.ascii_letters + string.digits
        names = ["".join(p) for p in itertools.islice(itertools.product(alphabet, repeat=3), 100_000)]
        for body, expected in [
            ("{" + ",".join(f'"{n}":0' for n in names) + "}",
             b'{"error":{"code":"InvalidRequest","message":"aaa: unknown field","field":"aaa"}}'),
            ("{" + ",".join(f'"{n}":0' for n in names + ["aab"]) + "}",
             b'{"error":{"code":"InvalidRequest","message":"body: not valid JSON (duplicate member \'aab\')","field":"body"}}'),
        ]:
            sock = s.connect()
            sock.settimeout(60)
            raw = body.encode()
            assert len(raw) < 1024 * 1024
            sock.sendall(b"POST /v1/presign HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer dev-key\r\n"
                         b"Content-Type: application/json\r\nContent-Length: " + str(len(raw)).encode() + b"\r\n\r\n" + raw)
            status, _, answer, _ = read_response(sock)
            assert (status, answer) == (400, expected)
            sock.close()
    finally:
        s.stop()
