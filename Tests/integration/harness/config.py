"""One config builder (`PresigndConfig` over `CONFIG_DEFAULTS`, `backend`, `api_key_sha256`) and JWTs by hand."""
import hashlib
import json
import os
import tempfile

# What every test config has unless it says otherwise (`--listen` on the command line wins over `listen`).
CONFIG_DEFAULTS = {"listen": "127.0.0.1:0", "access_log": False}


def api_key_sha256(key):
    return hashlib.sha256(key.encode()).hexdigest()


def backend(endpoint="http://127.0.0.1:9", access_env="S3_ACCESS", secret_env="S3_SECRET", **extra):
    """A backend in path style on us-east-1 whose keys come from the environment (`credentials=` instead)."""
    made = {"endpoint": endpoint, "dialect": "aws-v4", "region": "us-east-1", "addressing": "path"}
    if access_env:
        made.update(access_key_env=access_env, secret_key_env=secret_env)
    made.update(extra)
    return made


def _merged(base, over):
    out = dict(base)
    for key, value in over.items():
        if value is None:
            out.pop(key, None)
        elif isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merged(out[key], value)
        else:
            out[key] = value
    return out


def _substituted(value, directory):
    if isinstance(value, str):
        return value.replace("@DIR@", directory)
    if isinstance(value, dict):
        return {k: _substituted(v, directory) for k, v in value.items()}
    if isinstance(value, list):
        return [_substituted(v, directory) for v in value]
    return value


class PresigndConfig:
    """A presignd config file, `path`, in a new directory `dir` of its own: `settings` over `CONFIG_DEFAULTS` (a key
    set to None is left out), written as JSON (which is YAML); `@DIR@` in any string is `dir`. `files` ({name: text})
    are written into `dir` first (tokens, secrets, key sets). `write(settings)` rewrites it (then SIGHUP);
    `write_text(text)` writes exact YAML (for check-config's messages about the text itself)."""

    def __init__(self, settings=None, files=None, prefix="presignd-", text=None):
        self.dir = tempfile.mkdtemp(prefix=prefix)
        self.path = os.path.join(self.dir, "presignd.yaml")
        for name, content in (files or {}).items():
            with open(os.path.join(self.dir, name), "w") as f:
                f.write(content)
        if text is not None:
            self.write_text(text)
        else:
            self.write(settings or {})

    def write(self, settings):
        self.settings = _substituted(_merged(CONFIG_DEFAULTS, settings), self.dir)
        self.write_text(json.dumps(self.settings, indent=1) + "\n")

    def write_text(self, text):
        with open(self.path, "w") as f:
            f.write(text)


def b64url(data):
    """base64url without padding (JWT segments)."""
    import base64
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def hs256_jwt(claims, secret):
    """A JWT signed with HS256 by hand (the venv has no JWT library)."""
    import hashlib, hmac, json
    header = b64url(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    payload = b64url(json.dumps(claims).encode())
    signature = hmac.new(secret.encode(), f"{header}.{payload}".encode(), hashlib.sha256).digest()
    return f"{header}.{payload}.{b64url(signature)}"
