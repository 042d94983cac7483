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
