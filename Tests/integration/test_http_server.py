"""Real-socket tests against `presignd serve`, one connection at a time: exact bytes on the wire, limits, smuggling,
timeouts. (Listeners, many connections, drain and memory: test_http_server_load.py.)"""
import re
import time

import pytest

from conftest import read_response, read_to_end
from harness.http_server import HEALTH_BODY, serve


@pytest.fixture
def server():
    s = serve("--max-header-bytes", "1024", "--max-body-bytes", "1024", "--header-timeout", "1",
              "--idle-timeout", "2", "--body-timeout", "1")
    yield s
    s.stop()


def normalized(raw):
    return re.sub(rb"Date: [^\r]+\r\n", b"Date: D\r\n", raw)


def normalized_ids(raw):
    return re.sub(rb"X-Request-Id: [0-9a-f]+-\d+-[0-9a-f]+\r\n", b"X-Request-Id: R\r\n", normalized(raw))


def expect_closed(sock):
    sock.settimeout(5)
    return read_to_end(sock)


def test_keep_alive_serves_100_requests_on_one_connection(server):
    sock = server.connect()
    leftover = b""
    for i in range(100):
        sock.sendall(f"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Request-Id: req-{i}\r\n\r\n".encode())
        status, headers, body, leftover = read_response(sock, leftover)
        # The server keeps its own id (the client's is logged beside it, never in its place).
        assert (status, body) == (200, HEALTH_BODY)
        assert re.fullmatch(r"[0-9a-f]+-\d+-[0-9a-f]+", headers["x-request-id"])


def test_three_pipelined_requests_are_answered_in_order_with_exact_bytes(server):
    sock = server.connect()
    sock.sendall(b"".join(
        f"GET /{path} HTTP/1.1\r\nHost: x\r\nX-Request-Id: p{i}\r\n\r\n".encode()
        for i, path in enumerate(["healthz", "readyz", "healthz"])))
    expected = b""
    for i, body in enumerate([HEALTH_BODY, b'{"status":"ready"}', HEALTH_BODY]):
        expected += (b"HTTP/1.1 200 OK\r\nDate: D\r\nContent-Type: application/json\r\nContent-Length: "
                     + str(len(body)).encode() + b"\r\nX-Request-Id: R\r\n\r\n" + body)
    data = b""
    deadline = time.time() + 5
    while len(normalized_ids(data)) < len(expected) and time.time() < deadline:
        data += sock.recv(65536)
    assert normalized_ids(data) == expected


def test_chunked_body_is_read_and_the_connection_stays_usable(server):
    sock = server.connect()
    sock.sendall(b"POST /healthz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n")
    status, headers, body, leftover = read_response(sock)
    assert status == 405 and headers["allow"] == "GET, HEAD"
    assert body == b'{"error":{"code":"MethodNotAllowed","message":"POST is not allowed here"}}'
    sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
    assert read_response(sock, leftover)[0] == 200


def test_expect_100_continue_gets_an_interim_response(server):
    sock = server.connect()
    sock.sendall(b"POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n")
    assert sock.recv(100) == b"HTTP/1.1 100 Continue\r\n\r\n"
    sock.sendall(b"abcd")
    assert read_response(sock)[0] == 405


def test_http10_closes_after_the_response(server):
    sock = server.connect()
    sock.sendall(b"GET /healthz HTTP/1.0\r\n\r\n")
    data = expect_closed(sock)
    assert data.startswith(b"HTTP/1.0 200 OK\r\n") and b"Connection: close\r\n" in data
    assert data.endswith(b"\r\n\r\n" + HEALTH_BODY)


def test_head_reply_has_no_body(server):
    sock = server.connect()
    sock.sendall(b"HEAD /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    data = normalized(expect_closed(sock))
    assert re.fullmatch(rb"HTTP/1\.1 200 OK\r\nDate: D\r\nContent-Type: application/json\r\nContent-Length: 15\r\n"
                        rb"X-Request-Id: [0-9a-f]+-\d+-[0-9a-f]+\r\nConnection: close\r\n\r\n", data)


@pytest.mark.parametrize("request_bytes,status", [
    (b"GET /healthz HTTP/1.1\r\nX-Big: " + b"a" * 2000 + b"\r\n\r\n", 431),
    (b"POST /healthz HTTP/1.1\r\nContent-Length: 1025\r\n\r\n", 413),
    (b"POST / HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\nabc", 400),
    (b"POST / HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabc", 400),
    (b"POST / HTTP/1.1\r\nTransfer-Encoding: identity\r\n\r\n", 400),
    (b"GET / HTTP/1.1\r\nX-A: 1\r\n folded\r\n\r\n", 400),
    (b"GET / HTTP/1.1\r\nX-A: a\x00b\r\n\r\n", 400),
    (b"GET / HTTP/1.1\r\nX-A: a\rb\r\n\r\n", 400),
    (b"NOT HTTP AT ALL\r\n\r\n", 400),
    (b"GET /healthz HTTP/9.9\r\nHost: x\r\n\r\n", 505),
    (b"GET /healthz HTTP/1.1\r\nAuthorization: Bearer a\r\nAuthorization: Bearer b\r\n\r\n", 400),
])
def test_limits_and_smuggling_are_answered_then_closed(server, request_bytes, status):
    sock = server.connect()
    sock.sendall(request_bytes)
    data = expect_closed(sock)
    assert data.startswith(f"HTTP/1.1 {status} ".encode())
    assert b"Connection: close\r\n" in data and b'{"error":{"code":"' in data


def test_a_refused_body_still_sent_does_not_cost_the_client_its_answer(server):
    """413 on a declared 4 MiB body, answered before the body is read. The client goes on sending the body it
    declared, then reads. Without the lingering close the server's close makes the kernel reset the connection:
    the client's send fails (EPIPE/ECONNRESET) or its read loses the 413. With it, every byte is taken and the
    client reads the exact 413 and then EOF."""
    sock = server.connect()
    sock.sendall(b"POST /v1/presign HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                 b"Content-Length: 4194304\r\n\r\n")
    time.sleep(0.3)  # the 413 is out and the server has decided to close
    for _ in range(64):
        sock.sendall(b"{" * 65536)
    data = expect_closed(sock)
    head, _, body = data.partition(b"\r\n\r\n")
    assert head.split(b"\r\n")[0] == b"HTTP/1.1 413 Content Too Large"
    assert b"Connection: close" in head
    assert body == b'{"error":{"code":"BodyTooLarge","message":"request body is too large"}}'


def test_lingering_is_bounded_in_bytes(server):
    """A client that never stops sending after its answer is cut off after the linger allowance (16 MiB), not
    read forever."""
    sock = server.connect()
    sock.sendall(b"POST /v1/presign HTTP/1.1\r\nHost: x\r\nContent-Length: 999999999\r\n\r\n")
    time.sleep(0.3)
    sent = 0
    with pytest.raises((BrokenPipeError, ConnectionResetError)):
        for _ in range(4096):
            sock.sendall(b"x" * 65536)
            sent += 65536
    assert 16 << 20 <= sent < 200 << 20
    sock.close()


def test_slow_head_gets_408_and_idle_connection_is_closed(server):
    slow = server.connect()
    slow.sendall(b"GET /healthz HTTP/1.1\r\n")
    assert expect_closed(slow).startswith(b"HTTP/1.1 408 Request Timeout\r\n")
    idle = server.connect()
    idle.sendall(b"GET /healthz HTTP/1.1\r\n\r\n")
    status, _, _, _ = read_response(idle)
    assert status == 200
    assert expect_closed(idle) == b""  # idle timeout closes without a response


def test_stalled_body_gets_408(server):
    sock = server.connect()
    sock.sendall(b"POST /healthz HTTP/1.1\r\nContent-Length: 10\r\n\r\nabc")
    assert expect_closed(sock).startswith(b"HTTP/1.1 408 Request Timeout\r\n")


def test_client_closing_mid_body_does_not_hurt_the_server(server):
    sock = server.connect()
    sock.sendall(b"POST /healthz HTTP/1.1\r\nContent-Length: 50\r\n\r\nabc")
    sock.close()
    again = server.connect()
    again.sendall(b"GET /healthz HTTP/1.1\r\n\r\n")
    assert read_response(again)[0] == 200
