"""make bench-json: how long one hostile JSON body holds a worker. A 100,000-member object (under 1 MiB) is sent to
/v1/presign on a release build with one worker, as a caller with a valid API key could; the time to the answer is
printed beside a small valid request's, in the same run. The goal is under 100 ms for the big one."""
import itertools
import socket
import string
import subprocess
import sys
import time

binary = sys.argv[1]
sock = socket.socket()
sock.bind(("127.0.0.1", 0))
port = sock.getsockname()[1]
sock.close()
server = subprocess.Popen([binary, "serve", "--listen", f"127.0.0.1:{port}", "--workers", "1", "--admin-listen", "off",
                           "--access-log", "off"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
try:
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.05)
    alphabet = string.ascii_letters + string.digits
    names = ("".join(p) for p in itertools.product(alphabet, repeat=3))
    members = [f'"{n}":0' for n in itertools.islice(names, 100_000)]
    bodies = {
        "100,000 unique members": ("{" + ",".join(members) + "}").encode(),
        "100,000 members, duplicate last": ("{" + ",".join(members + [members[0]]) + "}").encode(),
        "small valid request": b'{"operation":"get","bucket":"uploads","key":"a.txt"}',
    }

    def once(body):
        conn = socket.create_connection(("127.0.0.1", port), timeout=60)
        start = time.perf_counter()
        conn.sendall(b"POST /v1/presign HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer dev-key\r\n"
                     b"Content-Type: application/json\r\nContent-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
        data = b""
        while b"\r\n\r\n" not in data:
            data += conn.recv(65536)
        elapsed = time.perf_counter() - start
        conn.close()
        return int(data.split(b" ")[1]), elapsed

    for label, body in bodies.items():
        times = []
        for _ in range(5):
            status, elapsed = once(body)
            times.append(elapsed)
        best = min(times) * 1000
        print(f"{label:<34} {len(body):>8} bytes  status {status}  best of 5: {best:8.2f} ms"
              + ("   (goal < 100 ms)" if "100,000" in label else ""))
finally:
    server.terminate()
    server.wait(timeout=20)
