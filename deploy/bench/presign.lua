-- wrk script for `make bench`: POST /v1/presign with an API key, a policy check and a SigV4 PUT URL.
wrk.method = "POST"
wrk.body = '{"operation":"put","bucket":"uploads","key":"users/42/photo.png","expires_in":600,"content_type":"image/png"}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer bench-key"
