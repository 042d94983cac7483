"""Live parity: fresh random cases signed by botocore (clock frozen) and by `presignd sign` must agree exactly.

Compared: scheme, host, path and the decoded query parameters (signature included); order is free.
The seed is printed; set PARITY_SEED to replay a run.
"""
import datetime
import os
import random
import time
import urllib.parse

import boto3
import botocore.auth
import pytest
from botocore.config import Config

CASES = int(os.environ.get("PARITY_CASES", "240"))
SEED = int(os.environ.get("PARITY_SEED", str(time.time_ns() % 2**32)))
ALPHABET = list("abcxyz0189-_.~ +=&?#%[]!$'()*,;:@/\"<>\\^`{|}") + ["é", "ü", "日本", "😀", "€", "\u00a0"]
ENDPOINTS = ["https://s3.amazonaws.com", "http://127.0.0.1:8333", "http://localhost:9000",
             "https://storage.example.com:8443", "https://s3.eu-central-1.amazonaws.com"]
BUCKETS = ["uploads", "my-bucket-01", "b" * 40, "share.links"]
DISPOSITIONS = ['attachment; filename="report 2026.pdf"', "attachment; filename*=UTF-8''%E2%82%AC.txt", "inline"]


def random_key(rng):
    key = "".join(rng.choice(ALPHABET) for _ in range(rng.randint(1, 30)))
    if rng.random() < 0.2:
        key = key + "//" + key
    return key


def make_case(rng, index):
    signature = rng.choice(["v4", "v2"])
    addressing = rng.choice(["path", "virtual"])
    bucket = rng.choice(BUCKETS)
    endpoint = rng.choice(ENDPOINTS)
    if addressing == "virtual" and "." in bucket:
        # presignd refuses dotted buckets on virtual hosts (TLS names break); botocore silently goes path-style.
        bucket = "uploads"
    method = rng.choice(["GET", "PUT", "DELETE", "HEAD"])
    case = {
        "id": index, "sig": signature, "addressing": addressing, "bucket": bucket, "endpoint": endpoint,
        "method": method, "key": random_key(rng), "region": rng.choice(["us-east-1", "eu-central-1", "auto"]),
        "access": rng.choice(["AKIAIOSFODNN7EXAMPLE", "AKIDPRESIGNTEST"]),
        "secret": rng.choice(["wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "presign-test-secret-0123456789abcdef"]),
        "expires": rng.choice([1, 60, 3600, 86400, 604800]),
        "now": datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)
        + datetime.timedelta(seconds=rng.randint(0, 365 * 86400)),
        "session_token": rng.choice([None, None, "FQoGZXIvYXdzEdhkig/fhjhfed/c+/dbjeihf+hejbb=="]),
        "query": {}, "content_type": None,
    }
    if method == "GET" and rng.random() < 0.4:
        case["query"]["ResponseContentDisposition"] = rng.choice(DISPOSITIONS)
        if rng.random() < 0.5:
            case["query"]["ResponseContentType"] = rng.choice(["application/pdf", "text/plain; charset=utf-8"])
    if method == "PUT" and signature == "v4" and rng.random() < 0.3:
        case["content_type"] = rng.choice(["image/png", "text/plain; charset=utf-8"])
    return case


def botocore_url(case, monkeypatch):
    now = case["now"]
    monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda: now.replace(tzinfo=None))

    class FrozenTime:
        @staticmethod
        def time():
            return now.timestamp()

    monkeypatch.setattr(botocore.auth, "time", FrozenTime)
    client = boto3.client(
        "s3", endpoint_url=case["endpoint"], region_name=case["region"], aws_access_key_id=case["access"],
        aws_secret_access_key=case["secret"], aws_session_token=case["session_token"],
        config=Config(signature_version="s3v4" if case["sig"] == "v4" else "s3",
                      s3={"addressing_style": case["addressing"]}))
    operation = {"GET": "get_object", "PUT": "put_object", "DELETE": "delete_object", "HEAD": "head_object"}
    params = {"Bucket": case["bucket"], "Key": case["key"], **case["query"]}
    if case["content_type"]:
        params["ContentType"] = case["content_type"]
    return client.generate_presigned_url(operation[case["method"]], Params=params, ExpiresIn=case["expires"],
                                          HttpMethod=case["method"])


def presignd_args(case):
    args = ["sign", "--endpoint", case["endpoint"], "--region", case["region"], "--access-key", case["access"],
            "--secret-key", case["secret"], "--method", case["method"], "--bucket", case["bucket"],
            "--key=" + case["key"], "--expires", str(case["expires"]), "--signature", case["sig"],
            "--addressing", case["addressing"], "--now", case["now"].strftime("%Y-%m-%dT%H:%M:%SZ")]
    names = {"ResponseContentDisposition": "response-content-disposition",
             "ResponseContentType": "response-content-type"}
    for name, value in case["query"].items():
        args += [f"--query={names[name]}={value}"]
    if case["content_type"]:
        args += [f"--header=Content-Type: {case['content_type']}"]
    if case["session_token"]:
        args += ["--session-token", case["session_token"]]
    return args


def parts(url):
    split = urllib.parse.urlsplit(url)
    query = sorted(urllib.parse.parse_qsl(split.query, keep_blank_values=True))
    return split.scheme, split.netloc, split.path, query


def test_presignd_agrees_with_botocore_on_fresh_random_cases(presignd, monkeypatch):
    print(f"PARITY_SEED={SEED} cases={CASES}")
    rng = random.Random(SEED)
    mismatches = []
    for index in range(CASES):
        case = make_case(rng, index)
        expected = botocore_url(case, monkeypatch)
        ours = presignd(*presignd_args(case)).stdout.strip()
        if parts(ours) != parts(expected):
            mismatches.append((case, expected, ours))
    assert CASES >= 200
    assert not mismatches, f"seed {SEED}: {len(mismatches)} of {CASES} differ; first: {mismatches[0]}"


TOKEN_CASES = int(os.environ.get("PARITY_TOKEN_CASES", "200"))


def random_session_token(rng):
    """STS-shaped: base64 with + / =, sometimes long (real tokens run to ~1-2 KB)."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    body = "".join(rng.choice(alphabet) for _ in range(rng.choice([16, 120, 800, 1400])))
    return "IQoJb3JpZ2luX2Vj" + body + rng.choice(["", "=", "=="])


def test_presignd_agrees_with_botocore_with_a_session_token_on_every_case(presignd, monkeypatch):
    """Rotating credentials always carry a token: 200 fresh cases, each with one (X-Amz-Security-Token for SigV4,
    x-amz-security-token for SigV2), must agree exactly."""
    seed = SEED ^ 0x5E5510
    print(f"PARITY_SEED={SEED} token cases={TOKEN_CASES}")
    rng = random.Random(seed)
    mismatches = []
    for index in range(TOKEN_CASES):
        case = make_case(rng, index)
        case["session_token"] = random_session_token(rng)
        expected = botocore_url(case, monkeypatch)
        ours = presignd(*presignd_args(case)).stdout.strip()
        assert "ecurity-token=" in ours.lower(), ours
        if parts(ours) != parts(expected):
            mismatches.append((case, expected, ours))
    assert TOKEN_CASES >= 200
    assert not mismatches, f"seed {SEED}: {len(mismatches)} of {TOKEN_CASES} differ; first: {mismatches[0]}"
