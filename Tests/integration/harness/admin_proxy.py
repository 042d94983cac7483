"""The admin path, shared by test_admin_proxy and test_admin_proxy_streaming: presignd with an admin listener in
front of a backend (`Admin`), its token, and the `admin` fixture against SeaweedFS."""
import json
import uuid

import pytest

from harness.config import PresigndConfig, api_key_sha256, backend
from harness.process import ACCESS, SECRET, ServeProcess, free_port

TOKEN = "admin-" + uuid.uuid4().hex


def config(endpoint, connect=2, total=30, low_speed=3):
    return {
        "listen": None,
        "backends": {"main": backend(endpoint, "ADM_S3_ACCESS", "ADM_S3_SECRET", connect_timeout=connect,
                                     request_timeout=total, low_speed_timeout=low_speed)},
        "callers": [{"name": "nobody", "auth": {"api_key_sha256": "0" * 64},
                     "rules": [{"operations": ["get"], "bucket": "x", "max_expires_in": 60}]}],
        "admin": {"token_sha256": [api_key_sha256(TOKEN)]},
    }


class Admin(ServeProcess):
    def __init__(self, endpoint, **timeouts):
        path = PresigndConfig(config(endpoint, **timeouts), prefix="presignd-admin-").path
        self.port = free_port()
        self.admin_port = free_port()
        super().__init__(
            ["--config", path, "--listen", f"127.0.0.1:{self.port}", "--admin-listen", f"127.0.0.1:{self.admin_port}",
             "--workers", "1"], self.admin_port, env=dict(ADM_S3_ACCESS=ACCESS, ADM_S3_SECRET=SECRET),
            prefix="presignd-admin-")

    def call(self, method, path, body=None, headers=None, token=TOKEN, timeout=60, sink=None):
        # A body sent without a Content-Type goes as a form, as it did when these calls were made with urllib.
        fields = {"Content-Type": "application/x-www-form-urlencoded"} if body is not None else {}
        fields.update(headers or {})
        return self.request(method, f"/admin/v1{path}", body, headers=fields, bearer=token, timeout=timeout, sink=sink)

    def rss_mib(self):
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
        return 0


@pytest.fixture(scope="module")
def admin(seaweed):
    a = Admin(seaweed)
    yield a
    a.stop()


def js(body):
    return json.loads(body)
