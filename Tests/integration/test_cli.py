"""`presignd sign` refuses bad input with one line on stderr and a non-zero exit, and prints no URL."""
import pytest

BASE = ["sign", "--endpoint", "https://s3.example.com", "--region", "us-east-1", "--access-key", "AK",
        "--secret-key", "SK", "--bucket", "uploads", "--key=k.txt"]


@pytest.mark.parametrize("extra,message", [
    (["--method", "GET", "--expires", "0"], "presignd: error: SigV4 expiry must be between 1 and 604800 seconds (7 days); got 0\n"),
    (["--method", "GET", "--expires", "604801"], "presignd: error: SigV4 expiry must be between 1 and 604800 seconds (7 days); got 604801\n"),
    (["--method", "GET", "--expires", "60", "--addressing", "virtual", "--bucket", "Bad_Bucket"], None),
    (["--operation", "fly_away", "--expires", "60"], None),
    (["--method", "GET", "--expires", "60", "--now", "2026-13-01T00:00:00Z"], "presignd: error: invalid --now '2026-13-01T00:00:00Z': expected UTC like 2026-11-26T08:00:00Z\n"),
    (["--method", "GET", "--expires", "60", "--header", "NoColonHere"], "presignd: error: invalid --header 'NoColonHere': expected 'Name: value'\n"),
])
def test_bad_input_fails_with_one_line_and_no_url(presignd, extra, message):
    result = presignd(*BASE, *extra, check=False)
    assert result.returncode != 0
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("presignd: error: ")
    if message:
        assert result.stderr == message


def test_good_input_prints_exactly_one_url_line(presignd):
    result = presignd(*BASE, "--method", "GET", "--expires", "60", "--now", "2026-11-26T08:00:00Z")
    assert result.stdout.count("\n") == 1
    assert result.stdout.startswith("https://s3.example.com/uploads/k.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256&")


SIGN = ["sign", "--endpoint", "https://s3.example.com", "--region", "us-east-1", "--bucket", "uploads",
        "--method", "GET", "--expires", "60", "--now", "2026-11-26T08:00:00Z"]


def test_every_value_of_sign_may_begin_with_a_dash(presignd):
    """S3 keys, secrets, tokens, headers and query parameters may start with '-': `--key -abc` means what
    `--key=-abc` means, as with getopt."""
    values = [("--key", "-abc"), ("--access-key", "-AK"), ("--secret-key", "-SK"), ("--session-token", "-token"),
              ("--header", "-x-odd: -v"), ("--query", "-q=-v")]
    spaced = presignd(*SIGN, *[part for pair in values for part in pair])
    joined = presignd(*SIGN, *[f"{flag}={value}" for flag, value in values])
    assert spaced.stdout == joined.stdout
    assert spaced.stdout.startswith(
        "https://s3.example.com/uploads/-abc?-q=-v&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=-AK%2F20261126%2F"
        "us-east-1%2Fs3%2Faws4_request&X-Amz-Date=20261126T080000Z&X-Amz-Expires=60&X-Amz-Security-Token=-token&"
        "X-Amz-SignedHeaders=-x-odd%3Bhost&X-Amz-Signature=")
    assert spaced.stdout.count("\n") == 1 and spaced.stderr == ""


@pytest.mark.parametrize("args,message", [
    (["sign", "--endpoint", "-x", "--key", "k", "--bucket", "b", "--method", "GET", "--expires", "60", "--access-key", "a",
      "--secret-key", "s"], "invalid endpoint '-x': must start with http:// or https://"),
    (SIGN[:-4] + ["--expires", "-5", "--key", "k", "--access-key", "a", "--secret-key", "s"],
     "SigV4 expiry must be between 1 and 604800 seconds (7 days); got -5"),
    (SIGN[:-2] + ["--now", "-1", "--key", "k", "--access-key", "a", "--secret-key", "s"],
     "invalid --now '-1': expected UTC like 2026-11-26T08:00:00Z"),
    (SIGN + ["--key", "k", "--access-key", "a", "--secret-key", "s", "--operation", "-get"],
     "The value '-get' is invalid for '--operation <operation>'. Please provide one of the following:"),
    (SIGN + ["--key", "k", "--access-key", "a", "--secret-key", "s", "--region", "-r", "--signature", "-v4"],
     "The value '-v4' is invalid for '--signature <signature>'. Please provide one of 'v4', 'v2' or 's3fm'."),
    (["sign-post", "--endpoint", "https://s3.example.com", "--bucket", "-b", "--key", "-k", "--expires", "60",
      "--access-key", "a", "--secret-key", "s", "--content-length-range", "-1,5"],
     "content-length-range [-1, 5] is empty or negative"),
    (["sign-post", "--endpoint", "https://s3.example.com", "--bucket", "b", "--key", "k", "--expires", "60",
      "--access-key", "a", "--secret-key", "s", "--field", "-x"], "invalid --query '-x': expected name=value"),
    (SIGN[:9] + ["--signature", "v2", "--expires", "9223372036854775807", "--key", "k", "--access-key", "a",
                  "--secret-key", "s"], "expiry of 9223372036854775807 seconds ends after 9999-12-31T23:59:59Z"),
    (["sign-post", "--endpoint", "https://s3.example.com", "--bucket", "b", "--key", "k", "--expires", "-9223372036854775808",
      "--signature", "s3fm", "--access-key", "a", "--secret-key", "s"], "POST policy expiry must be between 1 and 604800 seconds; got -9223372036854775808"),
    (["serve", "--config", "-missing.yaml"], "config -missing.yaml: cannot read config file -missing.yaml"),
    (["serve", "--workers", "-1"], "--workers: must be between 1 and 256; got -1"),
    (["serve", "--drain-seconds", "-1"], "--drain-seconds: must be between 0 and 3600; got -1"),
    (["serve", "--max-connections", "-5"], "--max-connections: must be between 1 and 1000000; got -5"),
    (["probe", "--timeout", "-1", "http://127.0.0.1:1/"], "--timeout: must be between 1 and 3600; got -1"),
    (["bench-sign", "--iterations", "-1"], "--iterations: must be between 1 and 100000000; got -1"),
])
def test_values_beginning_with_a_dash_reach_the_command(presignd, args, message):
    result = presignd(*args, check=False)
    # Signing errors exit 1; argument and validation errors exit 64 (EX_USAGE), as ArgumentParser does.
    signing = message.startswith(("invalid endpoint", "SigV4 expiry", "content-length-range", "expiry of", "POST policy"))
    assert (result.returncode, result.stdout, result.stderr) == (1 if signing else 64, "", f"presignd: error: {message}\n")


@pytest.mark.parametrize("flag,value,message", [
    ("--header-timeout", "inf", "--header-timeout: must be between 0.001 and 3600; got inf"),
    ("--idle-timeout", "nan", "--idle-timeout: must be between 0.001 and 3600; got nan"),
    ("--body-timeout", "1e300", "--body-timeout: must be between 0.001 and 3600; got 1e+300"),
    ("--drain-seconds", "inf", "--drain-seconds: must be between 0 and 3600; got inf"),
    ("--max-header-bytes", "9223372036854775807", "--max-header-bytes: must be between 256 and 1048576; got 9223372036854775807"),
    ("--max-body-bytes", "0", "--max-body-bytes: must be between 1024 and 67108864; got 0"),
    ("--workers", "0", "--workers: must be between 1 and 256; got 0"),
])
def test_serve_flags_have_the_config_files_bounds(presignd, flag, value, message):
    result = presignd("serve", "--listen", "127.0.0.1:1", "--admin-listen", "off", flag, value, check=False)
    assert (result.returncode, result.stdout, result.stderr) == (64, "", f"presignd: error: {message}\n")
