"""Fleet mode against a real redis-server (Debian's 7.0, started here on a free loopback port and killed at the end;
the test fails when it cannot start): two presignd processes share one rate limit and one link store; per-subject
limits; Redis killed, restarted, frozen with SIGSTOP, behind a password; the fleet config refused when it is wrong.
Exact statuses and bodies; the measured latencies are printed (pytest -s shows them)."""
import json
import os
import re
import time
import uuid

import pytest

from conftest import PresigndConfig, ServeProcess, api_key_sha256, backend, concurrently, free_port, hs256_jwt
from test_links import NOT_FOUND, REVOKED, UNAVAILABLE as LINKS_UNAVAILABLE, USED_UP

KEY = "fleet-key-" + uuid.uuid4().hex
FAST_KEY = "fleet-fast-key-" + uuid.uuid4().hex
HS_SECRET = "fleet-hs256-secret-" + uuid.uuid4().hex
ISSUER = "https://auth.fleet.test"
COMMAND_TIMEOUT_MS = 200

RATE_LIMITED = {"error": {"code": "RateLimited", "message": "caller 'fleet' is over its rate limit"}}


def limiter_unavailable(kind):
    return {"error": {"code": "RateLimiterUnavailable", "message": f"the rate limiter cannot answer (redis: {kind}); retry"}}


# ---------------------------------------------------------------------------------------------------------------
# presignd


def token(subject):
    return hs256_jwt({"sub": subject, "iss": ISSUER, "aud": "fleet", "exp": int(time.time()) + 600}, HS_SECRET)


# Generous link-route limits: test_link_limits.py tests them.
UNLIMITED_LINKS = {"rate_limit": {"per_address": {"per_second": 100000, "burst": 100000},
                                  "per_link": {"per_second": 100000, "burst": 100000}}}


def config(redis_port, public_port, on_error="deny", password_env=None, command_timeout_ms=COMMAND_TIMEOUT_MS,
           links_extra=UNLIMITED_LINKS):
    objects = {"name": "objects", "operations": ["get", "share_link"], "bucket": "b", "key": "k/*", "max_expires_in": 86400}
    redis = {"url": f"redis://127.0.0.1:{redis_port}/0", "command_timeout_ms": command_timeout_ms}
    if password_env:
        redis["password_env"] = password_env
    return {
        "audit_log": False,
        "backends": {"main": backend(access_env="F_ACCESS", secret_env="F_SECRET")},
        "callers": [
            {"name": "fleet", "auth": {"api_key_sha256": api_key_sha256(KEY)}, "rate_limit": {"per_second": 1, "burst": 10},
             "rules": [objects]},
            {"name": "fast", "auth": {"api_key_sha256": api_key_sha256(FAST_KEY)},
             "rate_limit": {"per_second": 100000, "burst": 100000}, "rules": [objects]},
            {"name": "web", "auth": {"jwt": {"issuer": ISSUER, "audience": "fleet", "hs256_secret_env": "F_HS"}},
             "rate_limit": {"per_second": 0.001, "burst": 3, "per": "subject"},
             "rules": [{"name": "own", "operations": ["get"], "bucket": "b", "key": "users/${sub}/*", "max_expires_in": 600}]},
        ],
        "state": {"redis": redis, "on_error": on_error},
        "links": {"public_base_url": f"http://127.0.0.1:{public_port}", "url_ttl": 60, **links_extra},
    }


class Presignd(ServeProcess):
    def __init__(self, redis_port, workers=2, env=None, **settings):
        self.port = free_port()
        self.config = PresigndConfig(config(redis_port, self.port, **settings), prefix="presignd-fleet-").path
        super().__init__(
            ["--config", self.config, "--listen", f"127.0.0.1:{self.port}", "--workers", str(workers),
             "--admin-listen", "off", "--access-log", "off"], self.port,
            env=dict(F_ACCESS="AKIDFLEET", F_SECRET="fleet-s3-secret", F_HS=HS_SECRET, **(env or {})),
            prefix="presignd-fleet-")

    def presign(self, bearer=KEY, key="k/x"):
        return self.request("POST", "/v1/presign", {"operation": "get", "bucket": "b", "key": key}, bearer=bearer)


@pytest.fixture
def services():
    """Starts presignd processes (`make(redis_port, **kw)`); each is stopped (exit status 0 required) at the end."""
    started = []

    def make(redis_port, **kw):
        service = Presignd(redis_port, **kw)
        started.append(service)
        return service

    yield make
    for service in started:
        service.stop()


def timed(call):
    start = time.monotonic()
    result = call()
    return result, time.monotonic() - start


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


def status_body(answer):
    status, _, body = answer
    return status, json.loads(body) if body else None


# ---------------------------------------------------------------------------------------------------------------
# 1. one rate limit across two processes


def test_two_processes_share_one_rate_limit_in_redis(redis_servers, services):
    redis = redis_servers()
    a = services(redis.port)
    b = services(redis.port)
    answers, elapsed = timed(lambda: [(a if i % 2 == 0 else b).presign() for i in range(40)])
    print(f"\n40 presign requests over A and B took {elapsed * 1000:.0f} ms")
    statuses = [status for status, _, _ in answers]
    assert statuses.count(200) == 10 and statuses.count(429) == 30, (statuses, [body for _, _, body in answers])
    # per_second 1: the run must fit in a second for no token to come back (it takes a few tens of ms).
    assert elapsed < 1.0
    for status, headers, body in answers:
        if status == 429:
            assert json.loads(body) == RATE_LIMITED
            assert headers["retry-after"] == "1"
    assert statuses[:10] == [200] * 10  # the bucket is one: the first ten pass, whichever process takes them


def test_the_first_requests_of_a_new_process_wait_for_its_redis_connections(redis_servers, services):
    """Each worker connects on its first request: 24 requests sent at once to a fresh process all pass (none is
    answered 503 because the connection was still being made)."""
    redis = redis_servers()
    service = services(redis.port)
    results = concurrently(24, lambda i: (service.port, "POST", "/v1/presign",
                                          json.dumps({"operation": "get", "bucket": "b", "key": f"k/{i}"}),
                                          {"Authorization": f"Bearer {FAST_KEY}"}))
    assert [status for status, _ in results] == [200] * 24, results


# ---------------------------------------------------------------------------------------------------------------
# 2. per: subject


def test_per_subject_buckets_are_separate(redis_servers, services):
    redis = redis_servers()
    a = services(redis.port)
    b = services(redis.port)
    alice, bob = token("alice"), token("bob")
    answers = [(a if i % 2 == 0 else b).presign(alice, key="users/alice/x") for i in range(5)]
    assert [status for status, _, _ in answers] == [200, 200, 200, 429, 429], answers
    for status, headers, body in answers[3:]:
        assert json.loads(body) == {"error": {"code": "RateLimited", "message": "caller 'web' is over its rate limit"}}
        assert int(headers["retry-after"]) >= 1
    answers = [(b if i % 2 == 0 else a).presign(bob, key="users/bob/x") for i in range(4)]
    assert [status for status, _, _ in answers] == [200, 200, 200, 429], answers
    # Two subjects, two keys in Redis (and the API-key callers made none).
    keys = redis.command("KEYS", "presignd:rl:*")
    assert keys == "*2", keys


# ---------------------------------------------------------------------------------------------------------------
# 3. links across replicas


def test_links_are_shared_by_the_fleet(redis_servers, services):
    redis = redis_servers()
    a = services(redis.port)
    b = services(redis.port)
    status, headers, body = a.request("POST", "/v1/links", {"bucket": "b", "key": "k/shared.txt"}, bearer=FAST_KEY)
    assert status == 201, body
    link = json.loads(body)
    assert link["url"] == f"http://127.0.0.1:{a.port}/l/{link['id']}" and link["max_uses"] is None
    status, headers, body = b.request("GET", f"/l/{link['id']}")
    assert status == 302, body
    assert headers["location"].startswith("http://127.0.0.1:9/b/k/shared.txt?")
    status, _, body = b.request("DELETE", f"/v1/links/{link['id']}", bearer=FAST_KEY)
    assert (status, body) == (204, b"")
    assert status_body(a.request("GET", f"/l/{link['id']}")) == (410, REVOKED)
    assert status_body(b.request("GET", f"/l/{link['id']}")) == (410, REVOKED)

    status, _, body = b.request("POST", "/v1/links", {"bucket": "b", "key": "k/ten.txt", "max_uses": 10}, bearer=FAST_KEY)
    assert status == 201, body
    link = json.loads(body)
    # Half the uses go to A, half to B, all at once.
    results = concurrently(50, lambda i: ((a if i % 2 == 0 else b).port, "GET", f"/l/{link['id']}", None, None))
    statuses = [status for status, _ in results]
    assert statuses.count(302) == 10 and statuses.count(410) == 40, results
    assert all(json.loads(body) == USED_UP for status, body in results if status == 410)
    status, _, body = a.request("GET", f"/v1/links/{link['id']}", bearer=FAST_KEY)
    info = json.loads(body)
    assert status == 200 and (info["uses"], info["max_uses"], info["state"]) == (10, 10, "used_up"), info


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


# ---------------------------------------------------------------------------------------------------------------
# 7. the fleet config refused


BASE = """backends:
  main: {endpoint: "http://127.0.0.1:8333", dialect: aws-v4, access_key_env: F_ACCESS, secret_key_env: F_SECRET}
callers:
  - {name: a, auth: {api_key_sha256: "%s"}, rate_limit: {per_second: 1, burst: 5, per: subject},
     rules: [{operations: [get, share_link], bucket: b, max_expires_in: 60}]}
""" % ("0" * 64)
STATE = 'state: {redis: {url: "redis://127.0.0.1:6379/0"}}\n'


def test_fleet_config_mistakes_are_refused(presignd):
    env = dict(os.environ, F_ACCESS="AKIDFLEET", F_SECRET="fleet-s3-secret")
    cases = [
        (BASE, "callers[0].rate_limit.per: per: subject keeps one bucket per JWT subject in Redis; it needs state.redis"),
        (BASE + STATE + 'links: {public_base_url: "http://127.0.0.1:8080", sqlite_path: /tmp/links.sqlite}\n',
         "links.sqlite_path: links live in Redis when state.redis is set; leave sqlite_path out"),
        (BASE + STATE.replace("redis://127.0.0.1:6379/0", "rediss://127.0.0.1:6379/0"),
         "state.redis.url: rediss:// (TLS) is not supported"),
        (BASE + STATE.replace("redis://127.0.0.1:6379/0", "redis://127.0.0.1:99999/0"),
         "state.redis.url: port must be a number in 1...65535"),
        (BASE + STATE.replace("redis://127.0.0.1:6379/0", "http://127.0.0.1:6379"),
         "state.redis.url: URL must start with redis://"),
        (BASE + STATE.replace("/0", "/16"), "state.redis.url: database must be a number in 0...15"),
        (BASE + STATE.replace("}}", "}, on_error: maybe}"), "state.on_error: must be deny or allow (got 'maybe')"),
    ]
    for text, message in cases:
        path = PresigndConfig(text=text, prefix="presignd-fleet-cfg-").path
        result = presignd("check-config", path, env=env, check=False)
        assert result.returncode != 0 and result.stdout == "", (text, result.stdout)
        assert result.stderr == f"presignd: error: {path}: {message}\n", (text, result.stderr)
    # The same document with state.redis and no sqlite_path is valid.
    path = PresigndConfig(text=BASE + STATE + 'links: {public_base_url: "http://127.0.0.1:8080"}\n', prefix="presignd-fleet-cfg-").path
    result = presignd("check-config", path, env=env, check=False)
    assert (result.returncode, result.stdout) == (0, f"{path}: OK (1 backend(s), 1 caller(s), 1 rule(s))\n"), result.stderr
