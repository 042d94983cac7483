"""Fleet mode against a real redis-server (Debian's 7.0, started here on a free loopback port and killed at the end;
the test fails when it cannot start): Redis killed, restarted, frozen with SIGSTOP, behind a
password. Exact statuses and bodies; the measured latencies are printed (pytest -s shows them). (What the fleet
shares: test_fleet_shared.py.)"""
import json
import re
import time
import uuid

from harness.fleet import (COMMAND_TIMEOUT_MS, FAST_KEY, LINKS_UNAVAILABLE, limiter_unavailable, services,  # noqa: F401
                           status_body, timed)
from harness.links import NOT_FOUND


def first_status_after(service, ready_at, call, want=200, limit=5.0, interval=0.01):
    """Polls `call` until it answers `want`; the seconds from `ready_at` to that answer, and the answers before it."""
    seen = []
    while time.monotonic() - ready_at < limit:
        status = call()[0]
        if status == want:
            return time.monotonic() - ready_at, seen
        seen.append(status)
        time.sleep(interval)
    raise AssertionError(f"no {want} within {limit} s of Redis accepting connections; saw {sorted(set(seen))}: "
                         + service.output()[-2000:])


def all_workers_back(service, since, call, run=20, limit=5.0):
    """Polls `call` (each on a new connection, so on any worker) until `run` answers in a row are 200; the seconds
    from `since` to the first of them. A worker whose connection is in its backoff still answers 503 meanwhile."""
    streak_started = None
    streak = 0
    while time.monotonic() - since < limit:
        started = time.monotonic()
        if call()[0] == 200:
            streak_started = streak_started or started
            streak += 1
            if streak == run:
                return streak_started - since
        else:
            streak, streak_started = 0, None
        time.sleep(0.005)
    raise AssertionError(f"not {run} answers 200 in a row within {limit} s: " + service.output()[-2000:])

# ---------------------------------------------------------------------------------------------------------------
# 4. Redis killed and started again


def test_redis_killed_then_restarted(redis_servers, services):
    redis = redis_servers()
    deny = services(redis.port)
    allow = services(redis.port, on_error="allow")
    status, _, body = deny.request("POST", "/v1/links", {"bucket": "b", "key": "k/a"}, bearer=FAST_KEY)
    assert status == 201, body
    link_id = json.loads(body)["id"]
    redis.kill()
    time.sleep(0.2)
    for _ in range(6):
        assert status_body(deny.presign(FAST_KEY)) == (503, limiter_unavailable("unavailable"))
        status, headers, body = deny.presign(FAST_KEY)
        assert (status, headers["retry-after"]) == (503, "1")
        assert status_body(deny.request("GET", f"/l/{link_id}")) == (503, LINKS_UNAVAILABLE)
        status, _, body = deny.request("GET", "/healthz")
        assert status == 200, body
    assert deny.metric("presignd_rate_limit_fail_open_total") == 0
    for _ in range(4):
        status, _, body = allow.presign(FAST_KEY)
        assert status == 200, body
    assert allow.metric("presignd_rate_limit_fail_open_total") >= 1
    assert deny.metric("presignd_redis_errors_total") >= 1

    time.sleep(1.0)  # down for a while: the backoff has grown
    redis.start()  # the same port; the keys are gone (no persistence)
    recovered, before = first_status_after(deny, redis.ready_at, lambda: deny.presign(FAST_KEY))
    print(f"\nafter Redis came back: first 200 from the deny process after {recovered * 1000:.0f} ms "
          f"({len(before)} answers before it: {sorted(set(before))})")
    assert recovered < 2.0
    # Every worker comes back within the backoff cap (2 s) of Redis being there again.
    everyone = all_workers_back(deny, redis.ready_at, lambda: deny.presign(FAST_KEY))
    print(f"after Redis came back: 20 answers 200 in a row from {everyone * 1000:.0f} ms")
    assert everyone < 2.5
    # Links have their own connection per worker, with its own backoff: it is back within the same cap.
    # Each request may land on either worker: wait for 20 answers in a row from the link route (404: the restart
    # lost the link) as for the limiter.
    links_back = all_workers_back(
        deny, redis.ready_at, lambda: (200 if deny.request("GET", f"/l/{link_id}")[0] == 404 else 503,))
    print(f"after Redis came back: the link route answers on every worker from {links_back * 1000:.0f} ms")
    assert links_back < 2.5
    assert status_body(deny.request("GET", f"/l/{link_id}")) == (404, NOT_FOUND)  # Redis lost it with the restart
    assert deny.metric("presignd_redis_reconnects_total") >= 1


# ---------------------------------------------------------------------------------------------------------------
# 5. Redis frozen


def test_redis_frozen_requests_time_out_and_health_stays_fast(redis_servers, services):
    redis = redis_servers()
    service = services(redis.port)
    for _ in range(10):  # both workers connected
        status, _, body = service.presign(FAST_KEY)
        assert status == 200, body
    status, _, body = service.request("POST", "/v1/links", {"bucket": "b", "key": "k/a"}, bearer=FAST_KEY)
    assert status == 201, body
    link_id = json.loads(body)["id"]
    redis.freeze()
    try:
        limited = []
        for _ in range(8):
            answer, seconds = timed(lambda: service.presign(FAST_KEY))
            limited.append((status_body(answer), seconds))
        links = []
        for _ in range(4):
            answer, seconds = timed(lambda: service.request("GET", f"/l/{link_id}"))
            links.append((status_body(answer), seconds))
        health = [timed(lambda: service.request("GET", "/healthz")) for _ in range(5)]
        spec = [timed(lambda: service.request("GET", "/openapi.yaml")) for _ in range(5)]
        thaw_started = time.monotonic()
    finally:
        redis.thaw()
    print("\nfrozen Redis: presign "
          + ", ".join(f"{s * 1000:.0f} ms ({b['error']['message'][30:]})" for (_, b), s in limited))
    print("frozen Redis: /l/{id} " + ", ".join(f"{s * 1000:.0f} ms" for _, s in links))
    print("frozen Redis: /healthz " + ", ".join(f"{s * 1000:.1f} ms" for _, s in health)
          + "; /openapi.yaml " + ", ".join(f"{s * 1000:.1f} ms" for _, s in spec))
    bound = (COMMAND_TIMEOUT_MS + 250) / 1000
    for (status, body), seconds in limited:
        assert status == 503 and body in (limiter_unavailable("timeout"), limiter_unavailable("unavailable"),
                                          limiter_unavailable("disconnected")), body
        assert seconds < bound
    assert any(body == limiter_unavailable("timeout") for (_, body), _ in limited)
    for answer, seconds in links:
        assert answer == (503, LINKS_UNAVAILABLE) and seconds < bound
    for (status, _, _), seconds in health + spec:
        assert status == 200 and seconds < 0.1
    recovered, before = first_status_after(service, thaw_started, lambda: service.presign(FAST_KEY))
    print(f"after SIGCONT: first 200 after {recovered * 1000:.0f} ms ({len(before)} answers before it)")
    assert recovered < 2.0
    everyone = all_workers_back(service, thaw_started, lambda: service.presign(FAST_KEY))
    print(f"after SIGCONT: 20 answers 200 in a row from {everyone * 1000:.0f} ms")
    assert everyone < 2.5


# ---------------------------------------------------------------------------------------------------------------
# 6. a password


def redis_with_password(redis_servers, services):
    password = "fleet-redis-pw-" + uuid.uuid4().hex
    wrong = "fleet-wrong-pw-" + uuid.uuid4().hex
    redis = redis_servers(password=password)
    right = services(redis.port, password_env="F_REDIS_PW", env={"F_REDIS_PW": password})
    bad = services(redis.port, password_env="F_REDIS_PW", env={"F_REDIS_PW": wrong})
    return password, wrong, right, bad


def test_redis_password_right_and_wrong(redis_servers, services):
    password, wrong, right, bad = redis_with_password(redis_servers, services)
    for _ in range(6):
        status, _, body = right.presign(FAST_KEY)
        assert status == 200, body
    status, _, body = right.request("POST", "/v1/links", {"bucket": "b", "key": "k/a"}, bearer=FAST_KEY)
    assert status == 201, body
    for _ in range(6):
        status, headers, body = bad.presign(FAST_KEY)
        assert (status, json.loads(body), headers["retry-after"]) == (503, limiter_unavailable("unavailable"), "1")
    assert bad.metric("presignd_redis_errors_total", kind="handshake_failed") >= 1
    assert status_body(bad.request("GET", "/l/" + "A" * 32)) == (503, LINKS_UNAVAILABLE)
    right.stop()
    bad.stop()
    assert re.search(r'"message":"share links \(Redis 127\.0\.0\.1:\d+/0\): redis: unavailable \(AUTH failed: WRONGPASS invalid username-password pair',
                     bad.output()), bad.output()[-2000:]
    for service in (right, bad):
        for secret in (password, wrong):
            assert secret not in service.output()


def test_a_wrong_password_is_named_in_the_log_by_the_rate_limiter_alone(redis_servers, services):
    password, wrong, _, bad = redis_with_password(redis_servers, services)
    for _ in range(6):
        assert status_body(bad.presign(FAST_KEY)) == (503, limiter_unavailable("unavailable"))
    time.sleep(0.2)
    text = bad.output()
    assert password not in text and wrong not in text
    # Logged (at most once a second per worker), with the cause the client is not told.
    assert re.search(r'"message":"rate limiter \(Redis 127\.0\.0\.1:\d+\): unavailable \(AUTH failed: WRONGPASS', text), text[-2000:]
