"""The integration tests' helpers, one copy of each (issue 22: no local copies); conftest.py re-exports the shared
ones (`from conftest import X`) and holds the fixtures. By concern:

- `process`: the presignd binary, ports never handed out twice, `ServeProcess` (`presignd serve` started when it
  listens on each of its ports), `server_has_read`;
- `net`: one HTTP request (`request`, `Headers`), raw-socket reading (`read_response`, `read_to_end`),
  `concurrently`;
- `metrics`: /metrics parsed (`scrape`, `metric`, `metric_by`) and `wait_for`;
- `config`: `PresigndConfig` over `CONFIG_DEFAULTS`, `backend`, `api_key_sha256`, JWT helpers;
- `redis_server`: `RedisServer`, `redis_command`, `resp`;
- the rest (`links`, `fleet`, `jwks`, `credentials`, `late_answers`, `admin_proxy`, `http_server`): what the test
  files of one area share.
"""
