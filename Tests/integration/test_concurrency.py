"""Four worker loops under concurrent load: presign calls (auth, rate limits, policy, metrics, per-worker config
snapshots), SIGHUP reloads in the middle, pipelined health checks, /metrics scrapes. Exact answers from every
request; under `make test-tsan` the binary is built with ThreadSanitizer and any report fails the test."""
import json
import signal
import socket
import threading

from conftest import PresigndConfig, ServeProcess, api_key_sha256, backend, free_port, read_response

KEY = "concurrency-key-0123456789"


def config(per_second, burst=1000000):
    return {
        "audit_log": True,
        "backends": {"main": backend(access_env="C_ACCESS", secret_env="C_SECRET")},
        "callers": [{"name": "busy", "auth": {"api_key_sha256": api_key_sha256(KEY)},
                     "rate_limit": {"per_second": per_second, "burst": burst},
                     "rules": [{"name": "all", "operations": ["get", "put"], "bucket": "b", "key": "k/*", "max_expires_in": 3600}]}],
    }


def exchange(sock, raw):
    sock.sendall(raw)
    status, _, body, _ = read_response(sock)
    return status, body


def test_four_workers_under_concurrent_presign_load_and_reloads_answer_every_request_exactly():
    port = free_port()
    settings = PresigndConfig(config(1000), prefix="presignd-conc-")
    service = ServeProcess(["--config", settings.path, "--listen", f"127.0.0.1:{port}", "--workers", "4",
                            "--admin-listen", "off", "--access-log", "off"], port,
                           env=dict(C_ACCESS="AKIDCONCURRENCY", C_SECRET="concurrency-secret"))
    failures = []

    def client(n):
        try:
            for round_ in range(6):
                sock = socket.create_connection(("127.0.0.1", port), timeout=30)
                for i in range(25):
                    body = json.dumps({"operation": "get", "bucket": "b", "key": f"k/{n}/{round_}/{i}"}).encode()
                    status, answer = exchange(sock, b"POST /v1/presign HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
                                              + KEY.encode() + b"\r\nContent-Type: application/json\r\nContent-Length: "
                                              + str(len(body)).encode() + b"\r\n\r\n" + body)
                    doc = json.loads(answer)
                    if status != 200 or doc["method"] != "GET" or f"/b/k/{n}/{round_}/{i}?" not in doc["url"]:
                        failures.append((status, answer))
                status, answer = exchange(sock, b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
                if status != 200 or b"presignd_urls_issued_total" not in answer:
                    failures.append((status, answer[:200]))
                sock.close()
        except Exception as error:  # noqa: BLE001 - any failure in a thread fails the test below
            failures.append(repr(error))

    threads = [threading.Thread(target=client, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for _ in range(5):
        service.proc.send_signal(signal.SIGHUP)
        threading.Event().wait(0.2)
    for t in threads:
        t.join()
    # After the reloads the limit is still in force on every worker: a tiny rate refuses with an honest Retry-After.
    settings.write(config(0.001, burst=1))
    service.proc.send_signal(signal.SIGHUP)
    threading.Event().wait(1.0)
    statuses = []
    for _ in range(8):
        sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        body = b'{"operation":"get","bucket":"b","key":"k/x"}'
        sock.sendall(b"POST /v1/presign HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + KEY.encode()
                     + b"\r\nContent-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
        data = b""
        while b"\r\n\r\n" not in data:
            data += sock.recv(65536)
        statuses.append(int(data.split(b" ")[1]))
        if statuses[-1] == 429:
            assert b"\r\nRetry-After: 1000\r\n" in data, data
        sock.close()
    service.stop()
    assert failures == []
    # Each of the 4 workers has its own bucket of 1: at most 4 answers pass, the rest are limited.
    assert statuses.count(200) <= 4 and statuses.count(429) >= 4, statuses
