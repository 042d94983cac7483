"""make bench-multipart: a 1 GiB upload through presignd's multipart API (a Python client: create, sign parts in
batches, 4 parallel PUTs of 8 MiB straight to SeaweedFS, complete) beside boto3's own upload_file with the same part
size and concurrency, against the same SeaweedFS in the same run. Prints MiB/s for both and the ratio; presignd is
only on the control path, so the goal is at least 0.9x boto3.
    scripts/bench_multipart.py PRESIGND_BINARY   (a release build)"""
import concurrent.futures
import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

import boto3
import urllib3
from boto3.s3.transfer import TransferConfig
from botocore.config import Config

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ACCESS, SECRET = "AKIDPRESIGNTEST", "presign-test-secret-0123456789abcdef"
SIZE = 1 << 30
PART = 8 << 20
PARALLEL = 4
SIGN_BATCH = 32
RUNS = 3
API_KEY = "bench-key"
BUCKET = "bench"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(port, proc):
    for _ in range(300):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            if proc.poll() is not None:
                sys.exit("presignd exited early")
            time.sleep(0.05)
    sys.exit("presignd did not start")


class APIClient:
    """The demo's flow in Python: one keep-alive pool for presignd, one for SeaweedFS (PARALLEL connections)."""

    def __init__(self, base):
        self.base = base
        self.api = urllib3.PoolManager(maxsize=PARALLEL, headers={
            "Authorization": f"Bearer {API_KEY}", "Content-Type": "application/json"})
        self.storage = urllib3.PoolManager(maxsize=PARALLEL, block=True)

    def call(self, method, path, body=None, expect=200):
        response = self.api.request(method, self.base + path, body=None if body is None else json.dumps(body))
        if response.status != expect:
            raise RuntimeError(f"{method} {path}: {response.status} {response.data[:300]!r}")
        return json.loads(response.data) if response.data else {}

    def upload(self, path, key):
        size = os.path.getsize(path)
        count = max(1, -(-size // PART))
        created = self.call("POST", "/v1/uploads", {"bucket": BUCKET, "key": key, "content_length": size}, expect=201)
        base = "/v1/uploads/" + urllib.parse.quote(created["upload"], safe="")
        lock = threading.Lock()
        signed = {}  # part number -> {"url", "headers"}, filled a batch at a time just before it is needed

        def url_for(number):
            with lock:
                if number not in signed:
                    numbers = list(range(number, min(count, number + SIGN_BATCH - 1) + 1))
                    parts = [{"number": n, "content_length": min(PART, size - (n - 1) * PART)} for n in numbers]
                    for part in self.call("POST", f"{base}/parts", {"parts": parts})["parts"]:
                        signed[part["number"]] = part
                return signed[number]

        fd = os.open(path, os.O_RDONLY)

        def send(number):
            part = url_for(number)
            body = os.pread(fd, min(PART, size - (number - 1) * PART), (number - 1) * PART)
            response = self.storage.request("PUT", part["url"], body=body, headers=part["headers"])
            if response.status != 200:
                raise RuntimeError(f"part {number}: {response.status} {response.data[:300]!r}")
            return {"number": number, "etag": response.headers["ETag"]}

        try:
            with concurrent.futures.ThreadPoolExecutor(PARALLEL) as pool:
                parts = list(pool.map(send, range(1, count + 1)))
            return self.call("POST", f"{base}/complete", {"parts": parts})
        except BaseException:
            self.call("DELETE", base, expect=204)
            raise
        finally:
            os.close(fd)


def main():
    binary = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, ".build", "release", "presignd")
    work = tempfile.mkdtemp(prefix="presignd-bench-multipart-")
    seaweed = os.path.join(ROOT, "scripts", "seaweedfs.sh")
    started = subprocess.run([seaweed, "start", os.path.join(work, "weed"), str(free_port())],
                             capture_output=True, text=True, check=False)
    if started.returncode != 0:
        sys.exit(f"SeaweedFS did not start: {started.stderr.strip()}")
    endpoint = started.stdout.strip()
    server = None
    try:
        port = free_port()
        config = os.path.join(work, "presignd.yaml")
        with open(config, "w") as f:
            f.write(f"""access_log: false
audit_log: false
backends:
  main: {{endpoint: "{endpoint}", dialect: aws-v4, region: us-east-1, addressing: path,
         access_key_env: S3_ACCESS_KEY, secret_key_env: S3_SECRET_KEY}}
callers:
  - name: bench
    auth: {{api_key_sha256: "{hashlib.sha256(API_KEY.encode()).hexdigest()}"}}
    rules: [{{operations: [put, get], bucket: {BUCKET}, key: "*", max_expires_in: 3600}}]
uploads: {{token_secret_env: BENCH_UPLOAD_SECRET}}
""")
        env = dict(os.environ, S3_ACCESS_KEY=ACCESS, S3_SECRET_KEY=SECRET, BENCH_UPLOAD_SECRET="bench-upload-token-secret-" + "0" * 16)
        server = subprocess.Popen([binary, "serve", "--config", config, "--listen", f"127.0.0.1:{port}",
                                   "--admin-listen", "off", "--workers", "1"],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
        wait_for(port, server)

        # boto3 with the same part size and concurrency; checksums only when required, since the API client sends
        # none either (boto3 >= 1.36 would otherwise add a CRC32 of every part).
        s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id=ACCESS,
                          aws_secret_access_key=SECRET,
                          config=Config(signature_version="s3v4", s3={"addressing_style": "path"},
                                        max_pool_connections=PARALLEL, request_checksum_calculation="when_required"))
        s3.create_bucket(Bucket=BUCKET)
        transfer = TransferConfig(multipart_threshold=PART, multipart_chunksize=PART, max_concurrency=PARALLEL,
                                  use_threads=True)
        path = os.path.join(work, "object.bin")
        with open(path, "wb") as f:
            for _ in range(SIZE // (64 << 20)):
                f.write(os.urandom(64 << 20))
        client = APIClient(f"http://127.0.0.1:{port}")

        best = {"presignd multipart API": 0.0, "boto3 upload_file": 0.0}
        for run in range(RUNS):  # alternate, so both see the same state of the machine and of SeaweedFS
            start = time.perf_counter()
            done = client.upload(path, f"api-{run}")
            api = SIZE / (time.perf_counter() - start) / (1 << 20)
            assert done["size"] == SIZE, done
            start = time.perf_counter()
            s3.upload_file(path, BUCKET, f"boto3-{run}", Config=transfer)
            boto = SIZE / (time.perf_counter() - start) / (1 << 20)
            best["presignd multipart API"] = max(best["presignd multipart API"], api)
            best["boto3 upload_file"] = max(best["boto3 upload_file"], boto)
            s3.delete_object(Bucket=BUCKET, Key=f"api-{run}")
            s3.delete_object(Bucket=BUCKET, Key=f"boto3-{run}")
        print(f"1 GiB, {PART >> 20} MiB parts, {PARALLEL} in parallel, best of {RUNS}:")
        for label, rate in best.items():
            print(f"  {label:<24} {rate:8.0f} MiB/s")
        ratio = best["presignd multipart API"] / best["boto3 upload_file"]
        print(f"  ratio presignd/boto3     {ratio:8.2f}   (goal >= 0.90)")
    finally:
        if server is not None:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=20)
        subprocess.run([seaweed, "stop", os.path.join(work, "weed")], check=False)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
