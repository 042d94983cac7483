"""Fleet mode against a real redis-server (Debian's 7.0, started here on a free loopback port and killed at the end;
the test fails when it cannot start): two presignd processes share one rate limit and one link
store; per-subject limits. Exact statuses and bodies; the measured latencies are printed (pytest -s shows them).
(Redis killed, frozen, behind a password: test_fleet_redis_faults.py; the fleet config: test_fleet_config.py.)"""
import json
import time

from conftest import concurrently, hs256_jwt
from harness.fleet import FAST_KEY, HS_SECRET, ISSUER, services, status_body, timed  # noqa: F401 - a fixture
from harness.links import REVOKED, USED_UP

RATE_LIMITED = {"error": {"code": "RateLimited", "message": "caller 'fleet' is over its rate limit"}}


def token(subject):
    return hs256_jwt({"sub": subject, "iss": ISSUER, "aud": "fleet", "exp": int(time.time()) + 600}, HS_SECRET)


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
