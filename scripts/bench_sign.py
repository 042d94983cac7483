"""make bench-sign: ns per SigV4 presigned URL, presignd (release) vs botocore, same inputs, same run."""
import json
import subprocess
import sys
import time

import boto3
from botocore.config import Config

binary = sys.argv[1]
ours = json.loads(subprocess.run([binary, "bench-sign", "--iterations", "200000"], check=True,
                                 capture_output=True, text=True).stdout)["ns_per_url"]

client = boto3.client("s3", endpoint_url="https://s3.amazonaws.com", region_name="us-east-1",
                      aws_access_key_id="AKIAIOSFODNN7EXAMPLE",
                      aws_secret_access_key="wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
                      config=Config(signature_version="s3v4", s3={"addressing_style": "virtual"}))
n = 5000
best = float("inf")
for _ in range(3):
    start = time.perf_counter_ns()
    for i in range(n):
        client.generate_presigned_url("get_object", Params={"Bucket": "examplebucket",
                                      "Key": "users/42/photo 1.png" if i % 2 == 0 else "a/b.txt"}, ExpiresIn=3600)
    best = min(best, (time.perf_counter_ns() - start) / n)
print(f"presignd  SigV4 presign: {ours:>8} ns/URL")
print(f"botocore  SigV4 presign: {int(best):>8} ns/URL")
print(f"ratio (botocore / presignd): {best / ours:.1f}x")
