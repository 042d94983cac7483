"""Opens N idle keep-alive connections (each after one request) and prints the server's RSS."""
import resource
import socket
import sys

host, port, count, pid = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
resource.setrlimit(resource.RLIMIT_NOFILE, (count + 1000, count + 1000))
conns = []
for _ in range(count):
    s = socket.create_connection((host, port))
    s.sendall(b"GET /healthz HTTP/1.1\r\n\r\n")
    conns.append(s)
for s in conns:
    s.recv(4096)
rss = next(int(line.split()[1]) for line in open(f"/proc/{pid}/status") if line.startswith("VmRSS"))
print(f"RSS presignd with {count} idle keep-alive connections: {rss // 1024} MiB")
