#!/usr/bin/env bash
# make run: SeaweedFS on 127.0.0.1:8333 with bucket `uploads`, then presignd on its dev profile (foreground).
#   scripts/dev_run.sh PRESIGND_BINARY
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
bin=${1:?presignd binary}
dir="$here/.cache/dev-seaweed"
export S3_ACCESS_KEY=${S3_ACCESS_KEY:-AKIDPRESIGNTEST}
export S3_SECRET_KEY=${S3_SECRET_KEY:-presign-test-secret-0123456789abcdef}
export AWS_ACCESS_KEY_ID=$S3_ACCESS_KEY AWS_SECRET_ACCESS_KEY=$S3_SECRET_KEY

"$here/scripts/seaweedfs.sh" stop "$dir" 2>/dev/null || true
endpoint=$("$here/scripts/seaweedfs.sh" start "$dir" 8333)
trap '"$here/scripts/seaweedfs.sh" stop "$dir"' EXIT

# Create the bucket with a URL presignd signs itself (409 when it already exists is fine).
url=$("$bin" sign --endpoint "$endpoint" --operation create_bucket --bucket uploads --expires 60)
code=$(curl -s -o /dev/null -w '%{http_code}' -X PUT "$url")
case $code in 200|409) ;; *) echo "could not create bucket uploads: HTTP $code" >&2; exit 1 ;; esac

# The browser demo uploads straight to SeaweedFS from the page's origin: allow it on the bucket.
"$here/.cache/venv/bin/python" - "$endpoint" <<'PY'
import sys, boto3
from botocore.config import Config
s3 = boto3.client("s3", endpoint_url=sys.argv[1], region_name="us-east-1",
                  config=Config(signature_version="s3v4", s3={"addressing_style": "path"}))
s3.put_bucket_cors(Bucket="uploads", CORSConfiguration={"CORSRules": [{
    "AllowedOrigins": ["http://127.0.0.1:8080", "http://localhost:8080"], "AllowedMethods": ["GET", "POST", "PUT"],
    "AllowedHeaders": ["*"], "ExposeHeaders": ["ETag"], "MaxAgeSeconds": 600}]})
PY

cat <<MSG

  SeaweedFS:   $endpoint (bucket uploads)
  presignd:    http://127.0.0.1:8080   API key: dev-key   (dev profile: loopback only)
  demo page:   http://127.0.0.1:8080/demo
  admin:       http://127.0.0.1:9090   token:   dev-admin

  Try:
    curl -s --json '{"operation":"put","bucket":"uploads","key":"hello.txt","content_type":"text/plain"}' \\
         -H 'Authorization: Bearer dev-key' http://127.0.0.1:8080/v1/presign

MSG
"$bin" serve
