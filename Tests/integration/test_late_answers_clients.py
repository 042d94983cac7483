"""Answers that come after the client left, one client at a time: a JWT waiting for its key set, pipelined answers
written to a client that left, a client that leaves while the server has paused reading it, and a download the
client never reads. The process survives, other clients are served, and `presignd_late_answers_dropped_total{route}`
counts exactly the answers that found their client gone. (Every route, and a seeded walk of disconnect moments:
test_late_answers_routes.py.)

Ordering, not timing: with one worker, a /healthz answered on a new connection after the client left means the
worker has read the departure (the socket's EOF or reset was ready before the new connection was even accepted);
only then are the peers let go."""
import json
import socket
import time

from conftest import wait_for
from harness.jwks import random_kid_token
from harness.late_answers import ADMIN, KEY, PRESIGN, FakePeer, leave, served, stack  # noqa: F401 - a fixture


def test_a_jwt_waiting_for_its_key_set_survives_its_client_leaving(stack):
    service, proxy, peer, _ = stack
    # The fetch every worker starts at boot must have answered first: a request that came while it was in flight
    # would wait for it rather than ask the (held) endpoint itself.
    wait_for(lambda: service.metric("presignd_jwks_fetches_total") >= 1, 10, "the boot fetch of the key set", interval=0.02)
    peer.gate.hold()
    sock = socket.create_connection(("127.0.0.1", service.port), timeout=30)
    body = json.dumps(PRESIGN).encode()
    sock.sendall(b"POST /v1/presign HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer " + random_kid_token().encode()
                 + b"\r\nContent-Type: application/json\r\nContent-Length: " + str(len(body)).encode() + b"\r\n\r\n"
                 + body)
    wait_for(peer.gate.seen.is_set, 5, "presignd to ask the JWKS endpoint", interval=0.005)
    leave(sock, "close")
    assert service.healthz() == (200, b'{"status":"ok"}')
    peer.gate.release()
    assert wait_for(lambda: service.dropped("/v1/presign"), 20, "the dropped answer to be counted", interval=0.02) == 1
    served(service)


def test_writing_to_a_client_that_left_is_an_error_on_that_connection_not_the_end_of_the_process(stack):
    """Two pipelined requests and a close without reading: the second answer's write fails (EPIPE after the reset
    the first one drew). Before SIGPIPE was ignored this ended the process (status -13)."""
    service, _, _, _ = stack
    for _ in range(30):
        sock = socket.create_connection(("127.0.0.1", service.port), timeout=30)
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n" * 2)
        sock.close()
        time.sleep(0.01)
    assert service.proc.poll() is None, service.output()[-2000:]
    assert service.healthz() == (200, b'{"status":"ok"}')
    served(service)


def test_a_client_that_leaves_while_its_reading_is_paused_has_its_late_answer_dropped(stack):
    """A request waits on Redis with 100 KiB of pipelined requests behind it, so the server has stopped reading the
    socket and cannot see the client leave by a read: the late answer asks the socket (TCP_INFO) and is dropped,
    counted, and none of the pipelined requests is answered into the dead socket."""
    service, proxy, _, _ = stack
    served(service)
    before = service.dropped("/v1/presign")
    proxy.gate.hold()
    sock = socket.create_connection(("127.0.0.1", service.port), timeout=30)
    body = json.dumps(PRESIGN).encode()
    sock.sendall(b"POST /v1/presign HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer " + KEY.encode()
                 + b"\r\nContent-Type: application/json\r\nContent-Length: " + str(len(body)).encode() + b"\r\n\r\n"
                 + body + b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n" * 3000)
    wait_for(proxy.gate.seen.is_set, 5, "the request to reach Redis", interval=0.005)
    sock.close()
    assert service.healthz() == (200, b'{"status":"ok"}')
    proxy.gate.release()
    wait_for(lambda: service.dropped("/v1/presign") >= before + 1, 20, "the dropped answer to be counted", interval=0.02)
    assert service.dropped("/v1/presign") == before + 1
    assert service.proc.poll() is None, service.output()[-2000:]
    served(service)


def test_a_download_the_client_never_reads_is_let_go(stack):
    """An admin download to a client that reads nothing: once no write has made progress for 30 s the connection
    is closed (the transfer with it), so the client that finally reads gets a cut-off body and the end of the
    stream, not all 64 MiB. Before the bound, the connection and its transfer were held for as long as the client
    liked, and a later read got everything."""
    service, _, _, _ = stack
    sock = socket.create_connection(("127.0.0.1", service.admin_port), timeout=60)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
    sock.sendall(f"GET /admin/v1/buckets/b/objects/big HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer {ADMIN}\r\n\r\n".encode())
    time.sleep(40)
    received = 0
    try:
        while True:
            chunk = sock.recv(1 << 20)
            if not chunk:
                break
            received += len(chunk)
    except ConnectionResetError:
        pass
    sock.close()
    assert 0 < received < len(FakePeer.BIG), received
    assert service.proc.poll() is None
    assert service.healthz() == (200, b'{"status":"ok"}')
