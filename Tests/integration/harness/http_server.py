"""`presignd serve` with no config, shared by test_http_server and test_http_server_load."""
from harness.process import ServeProcess, free_port

HEALTH_BODY = b'{"status":"ok"}'


def serve(*extra, workers=2, host="127.0.0.1"):
    """`presignd serve` on a free port with no config, no access log and no admin listener. `stop()` requires
    exit status 0 and, under `make test-asan`, no sanitizer report in the output."""
    port = free_port()
    listen = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    return ServeProcess(["--listen", listen, "--workers", str(workers), "--access-log", "off", "--admin-listen", "off",
                         *extra], port, prefix="presignd-http-", host=host)
