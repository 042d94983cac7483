"""Fleet mode (presignd with state in Redis), shared by the test_fleet_* files, test_link_limits and
test_redis_hostile: the callers' keys, a config, `Presignd`, the `services` fixture and the exact error bodies."""
import json
import time
import uuid

import pytest

from harness.config import PresigndConfig, api_key_sha256, backend
from harness.links import UNAVAILABLE as LINKS_UNAVAILABLE, UNLIMITED  # noqa: F401 - LINKS_UNAVAILABLE for the tests
from harness.process import ServeProcess, free_port

KEY = "fleet-key-" + uuid.uuid4().hex
FAST_KEY = "fleet-fast-key-" + uuid.uuid4().hex
HS_SECRET = "fleet-hs256-secret-" + uuid.uuid4().hex
ISSUER = "https://auth.fleet.test"
COMMAND_TIMEOUT_MS = 200


def limiter_unavailable(kind):
    return {"error": {"code": "RateLimiterUnavailable", "message": f"the rate limiter cannot answer (redis: {kind}); retry"}}


# Generous link-route limits: test_link_limits.py tests them.
UNLIMITED_LINKS = UNLIMITED


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


def status_body(answer):
    status, _, body = answer
    return status, json.loads(body) if body else None
