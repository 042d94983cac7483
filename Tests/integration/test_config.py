"""`presignd check-config`: the shipped example is valid; mistakes are reported with the field's path."""
import json
import os

from conftest import ROOT, PresigndConfig

EXAMPLE = os.path.join(ROOT, "deploy", "presignd.example.yaml")
ENV = dict(os.environ, S3_ACCESS_KEY="AKIDEXAMPLE", S3_SECRET_KEY="example-secret",
           PRESIGND_UPLOAD_TOKEN_SECRET="example-upload-token-secret-0123456789abcdef")


def example_with_jwks():
    """The example names /etc/presignd/jwks.json; point it at a real JWKS file for the check."""
    jwks = {"keys": [{"kty": "EC", "crv": "P-256", "kid": "k1", "alg": "ES256",
                      "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
                      "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}]}
    config = PresigndConfig(text="", files={"jwks.json": json.dumps(jwks)}, prefix="presignd-cfg-")
    with open(EXAMPLE) as src:
        config.write_text(src.read().replace("/etc/presignd/jwks.json", os.path.join(config.dir, "jwks.json")))
    return config.path


def test_the_example_config_is_valid(presignd):
    path = example_with_jwks()
    result = presignd("check-config", path, env=ENV)
    assert result.stdout == f"{path}: OK (1 backend(s), 2 caller(s), 3 rule(s))\n"


def refused(presignd, cases):
    """check-config refuses each (text, message): one line on stderr ending with the message (when given)."""
    for text, message in cases:
        result = presignd("check-config", PresigndConfig(text=text, prefix="presignd-cfg-").path, env=ENV, check=False)
        assert result.returncode != 0 and result.stdout == ""
        lines = result.stderr.splitlines()
        assert len(lines) == 1 and lines[0].startswith("presignd: error: ")
        if message is not None:
            assert lines[0].endswith(": " + message), lines[0]


BASE = """backends: {main: {endpoint: "http://127.0.0.1:8333", dialect: aws-v4, access_key_env: S3_ACCESS_KEY, secret_key_env: S3_SECRET_KEY}}
callers: [{name: a, auth: {api_key_sha256: "%s"}, rules: [{operations: [get], bucket: b, max_expires_in: 60}]}]
""" % ("0" * 64)


def test_mistakes_are_named_by_path(presignd):
    cases = [
        (BASE.replace("max_expires_in: 60", "max_expires_in: 700000"),
         "callers[0].rules[0].max_expires_in: SigV4 URLs live at most 604800 s (7 days); only a share_link-only rule may allow longer"),
        (BASE.replace("operations: [get]", "operations: [get, copy]"), "callers[0].rules[0].operations[1]: unknown operation 'copy'"),
        (BASE.replace("dialect: aws-v4", "dialect: v5"), "backends.main.dialect: must be s3fm, aws-v2 or aws-v4 (got 'v5')"),
        (BASE + "colour: blue\n", "colour: unknown field"),
        (BASE.replace("bucket: b,", "bucket: b, kee: x,"), "callers[0].rules[0].kee: unknown field"),
        (BASE.replace("S3_SECRET_KEY}", "MISSING_SECRET}"), "backends.main.secret_key_env: environment variable MISSING_SECRET (secret key) is not set"),
        (BASE.replace('"' + "0" * 64 + '"', '"abc"'), "callers[0].auth.api_key_sha256: must be 64 hex digits (sha256 of the key)"),
        ("backends: [\n", None),
    ]
    refused(presignd, cases)


VANITY = BASE.replace("dialect: aws-v4,", "dialect: aws-v4, addressing: vanity, vanity_domains: [example.com],")


def test_vanity_domains_and_numeric_bounds_are_checked(presignd):
    cases = [
        (VANITY.replace("[example.com]", "[127.0.0.1]"),
         "backends.main.vanity_domains[0]: '127.0.0.1' is not a lower-case DNS name with a dot (example.com)"),
        (VANITY.replace("[example.com]", "[localhost]"),
         "backends.main.vanity_domains[0]: 'localhost' is not a lower-case DNS name with a dot (example.com)"),
        (VANITY.replace("addressing: vanity, ", ""), "backends.main.vanity_domains: only means something with addressing: vanity"),
        (BASE.replace("name: a, ", "name: a, rate_limit: {per_second: 1e-19, burst: 1}, "),
         "callers[0].rate_limit.per_second: must be between 0.001 and 1000000; got 1e-19"),
        (BASE + "server: {header_timeout: .nan}\n", "server.header_timeout: must be between 0.001 and 3600; got nan"),
        (BASE + "server: {idle_timeout: .inf}\n", "server.idle_timeout: must be between 0.001 and 3600; got inf"),
        (BASE + "server: {max_connections: 99999999999999999999}\n", "server.max_connections: expected Int"),
        (BASE + "cors: {allowed_origins: ['*'], max_age: 1e308}\n", "cors.max_age: expected Int"),
    ]
    refused(presignd, cases)
    result = presignd("check-config", PresigndConfig(text=VANITY, prefix="presignd-cfg-").path, env=ENV)
    assert result.stdout.endswith(": OK (1 backend(s), 1 caller(s), 1 rule(s))\n")
