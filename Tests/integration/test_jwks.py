"""`jwt.jwks_url` end to end: presignd against a local JWKS server on loopback that counts its hits.

- A rotation to a new EC P-256 key: a token signed with the new key (new kid) is accepted after the automatic
  refetch, on two workers.
- Tokens with random unknown kids: at most one fetch per 30 s window (the server's hits, exact).
- The server down at start: 503 KeysUnavailable with Retry-After; it comes up; once Retry-After has passed the
  token is accepted.
- A server answering 5 MB, garbage or slowly: the old key set is kept and presignd stays responsive.

ES256 is signed here in pure Python (the test venv has no crypto library). Presigning needs no backend
connection, so the backend is a closed port. Nothing is skipped: a server that cannot start fails the test.
"""
import json
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from conftest import PresigndConfig, ServeProcess, backend, free_port, wait_for
from harness.jwks import ISSUER, ECKey, JWKSServer, random_kid_token


class Presignd(ServeProcess):
    def __init__(self, jwks_url, workers=1):
        self.port = free_port()
        self.config = PresigndConfig({
            "backends": {"main": backend(access_env="JWKS_S3_ACCESS", secret_env="JWKS_S3_SECRET")},
            "callers": [{"name": "app", "auth": {"jwt": {"issuer": ISSUER, "audience": "app", "jwks_url": jwks_url}},
                         "rules": [{"operations": ["get"], "bucket": "media", "key": "users/${sub}/*", "max_expires_in": 600}]}],
        }, prefix="presignd-jwks-").path
        super().__init__(["--config", self.config, "--listen", f"127.0.0.1:{self.port}", "--workers", str(workers),
                          "--admin-listen", "off"], self.port,
                         env=dict(JWKS_S3_ACCESS="AKIDJWKSTEST", JWKS_S3_SECRET="jwks-test-secret-0123456789"),
                         prefix="presignd-jwks-")

    def presign(self, token, sub="alice"):
        status, headers, raw = self.request("POST", "/v1/presign", {"operation": "get", "bucket": "media", "key": f"users/{sub}/a.jpg"},
                                            bearer=token, timeout=15)
        return status, headers, json.loads(raw)

    def fetches(self):
        return {outcome: int(value) for outcome, value in self.metric_by("presignd_jwks_fetches_total", "outcome").items()}


def test_rotation_is_picked_up_and_random_kids_fetch_once_per_window():
    server = JWKSServer().start()
    old, new = ECKey("old-1"), ECKey("new-1")
    server.set("/jwks", [old])
    service = Presignd(server.url("/jwks"), workers=2)
    try:
        # The first fetch starts when the service starts serving, before any request.
        wait_for(lambda: server.count("/jwks") == 1, 10, "the start fetch")
        status, _, body = service.presign(old.token())
        assert status == 200, body
        # The provider rotates: a token with the new kid makes presignd refetch once, then it is accepted.
        server.set("/jwks", [new])
        status, _, body = service.presign(new.token())
        assert status == 200, body
        assert server.count("/jwks") == 2
        window_opened = time.monotonic()
        assert service.presign(new.token(sub="bob"), sub="bob")[0] == 200
        # The old key is gone from the set: its tokens are refused now (no further fetch inside the window).
        status, _, body = service.presign(old.token())
        assert (status, body["error"]["code"]) == (401, "Unauthorized")

        def burst(count):
            with ThreadPoolExecutor(8) as pool:
                return list(pool.map(lambda _: service.presign(random_kid_token(), sub="mallory")[0], range(count)))

        # 1,000 tokens with random kids inside the window that the rotation opened: no fetch at all.
        statuses = burst(1000)
        assert time.monotonic() - window_opened < 29, "the burst outlasted the window; the count below would be wrong"
        assert statuses == [401] * 1000
        assert server.count("/jwks") == 2
        # The next window: another 1,000, exactly one fetch.
        time.sleep(max(0.0, window_opened + 30.5 - time.monotonic()))
        statuses = burst(1000)
        assert statuses == [401] * 1000
        assert server.count("/jwks") == 3
        assert service.presign(new.token())[0] == 200
        assert service.fetches() == {"ok": 3}
    finally:
        service.stop()
        server.stop()


def test_server_down_at_start_answers_503_then_accepts_once_it_is_up():
    server = JWKSServer()
    key = ECKey("k1")
    service = Presignd(server.url("/jwks"))
    try:
        status, headers, body = service.presign(key.token())
        assert status == 503, body
        assert body["error"]["code"] == "KeysUnavailable"
        assert body["error"]["message"] == f"the keys of issuer '{ISSUER}' have not been fetched from its jwks_url yet; retry"
        retry = int(headers["Retry-After"])
        assert 1 <= retry <= 30
        # Again at once: still 503, no new fetch attempt (the window holds).
        status, headers, body = service.presign(key.token())
        assert (status, body["error"]["code"]) == (503, "KeysUnavailable")
        server.set("/jwks", [key])
        server.start()
        time.sleep(int(headers["Retry-After"]) + 0.2)
        status, _, body = service.presign(key.token())
        assert status == 200, body
        assert server.count("/jwks") == 1
        fetches = service.fetches()
        assert fetches["ok"] == 1 and fetches["network"] >= 1
        assert "jwks fetch failed (network)" in service.output()
    finally:
        service.stop()
        server.stop()


def healthz_seconds(service):
    start = time.monotonic()
    with socket.create_connection(service.address, timeout=2) as conn:
        conn.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        answer = conn.recv(1024)
    assert answer.startswith(b"HTTP/1.1 200"), answer
    return time.monotonic() - start


def test_big_garbage_and_slow_answers_keep_the_old_keys_and_presignd_responsive():
    server = JWKSServer().start()
    key = ECKey("k1")
    modes = ["big", "garbage", "slow"]
    for mode in modes:
        server.set(f"/{mode}", [key])
    services = {mode: Presignd(server.url(f"/{mode}")) for mode in modes}
    try:
        for mode, service in services.items():
            wait_for(lambda: server.count(f"/{mode}") == 1, 10, f"the start fetch of {mode}")
            assert service.presign(key.token())[0] == 200
        for mode in modes:
            server.set(f"/{mode}", mode=mode)
        answers = {}

        def unknown(mode):
            started = time.monotonic()
            answers[mode] = (services[mode].presign(random_kid_token(), sub="mallory"), time.monotonic() - started)

        threads = [threading.Thread(target=unknown, args=(mode,)) for mode in modes]
        for thread in threads:
            thread.start()
        # While the slow fetch is in flight on the only worker loop: the loop answers probes and known keys.
        wait_for(lambda: server.count("/slow") == 2, 10, "the slow refetch")
        slow = services["slow"]
        probe = max(healthz_seconds(slow) for _ in range(20))
        assert probe < 1.0, f"GET /healthz took {probe:.3f} s during a slow fetch"
        assert slow.presign(key.token())[0] == 200
        for thread in threads:
            thread.join(30)
        for mode in modes:
            (status, _, body), _ = answers[mode]
            assert (status, body["error"]["code"]) == (401, "Unauthorized"), (mode, body)
            # The last good key set still verifies.
            assert services[mode].presign(key.token())[0] == 200
            assert server.count(f"/{mode}") == 2
        assert services["big"].fetches() == {"ok": 1, "too_large": 1}
        assert services["garbage"].fetches() == {"ok": 1, "not_json": 1}
        assert services["slow"].fetches() == {"ok": 1, "network": 1}
        assert "jwks fetch failed (too_large): the answer is over 65536 bytes; keeping the last good key set" in services["big"].output()
        assert "jwks fetch failed (not_json)" in services["garbage"].output()
        assert "jwks fetch failed (network): timeout" in services["slow"].output()
        print(f"\nhealthz during a slow fetch: max {probe * 1000:.1f} ms over 20; "
              f"unknown kid against the slow server answered in {answers['slow'][1]:.2f} s")
    finally:
        for service in services.values():
            service.stop()
        server.stop()
