"""The fleet config refused when it is wrong (state.redis, links in Redis, on_error), with presignd check-config's
exact messages."""
import os

from conftest import PresigndConfig

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
