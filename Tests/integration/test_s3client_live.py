"""The S3 client's multipart operations (SigV4 and SigV2) against SeaweedFS, in process: runs the Swift suite
MultipartLiveTests with the endpoint set, and requires that it ran and passed (it is disabled without one)."""
import os
import subprocess

from conftest import ROOT


def test_multipart_operations_pass_live_against_seaweedfs(seaweed):
    env = dict(os.environ, PRESIGND_TEST_S3_ENDPOINT=seaweed)
    scratch = os.environ.get("PRESIGND_SWIFT_SCRATCH")
    args = ["swift", "test", "--skip-build", "--filter", "MultipartLiveTests"]
    if scratch:
        args += ["--scratch-path", scratch]
    result = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-4000:]
    assert "Suite MultipartLiveTests passed" in output and "skipped" not in output.split("Suite MultipartLiveTests")[-1][:200], output[-4000:]
