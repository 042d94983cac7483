-- wrk script for `make bench`: POST /v1/presign with an API key, a policy check and a SigV4 GET URL (the same
-- body goes to nginx's static answer and to bench/gopeer, which ignore the Authorization header).
wrk.method = "POST"
wrk.body = '{"operation":"get","bucket":"uploads","key":"users/42/photo.png","expires_in":600}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer bench-key"
