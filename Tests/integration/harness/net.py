"""One HTTP request, raw-socket answers, `concurrently`, and `server_has_read` (the server holds a request)."""
import http.client
import json
import urllib.parse


def server_has_read(client):
    """Whether the server has read every byte `client` (a connected socket) sent: the server's end of the
    connection, found in /proc/net/tcp(6) by the two ports, has an empty receive queue. Lets a test know the server
    holds a request before it acts (closes, sends another), whatever order the server's loop reads sockets in."""
    mine = client.getsockname()[1]
    theirs = client.getpeername()[1]
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as f:
            for line in f.readlines()[1:]:
                fields = line.split()
                local, remote = int(fields[1].rsplit(":", 1)[1], 16), int(fields[2].rsplit(":", 1)[1], 16)
                if local == theirs and remote == mine:
                    return int(fields[4].split(":")[1], 16) == 0
    return False


def concurrently(count, request):
    """Opens `count` connections, then sends `request(i)` → (port, method, path, body, headers) on all of them at
    once (a barrier releases them together); the (status, body) answers in order, or (None, error text)."""
    import http.client, threading
    barrier = threading.Barrier(count)
    results = [None] * count

    def run(i):
        port, method, path, body, headers = request(i)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        try:
            conn.connect()
            barrier.wait(timeout=30)
            conn.request(method, path, body=body, headers=headers or {})
            response = conn.getresponse()
            results[i] = (response.status, response.read())
        except Exception as error:  # noqa: BLE001 - recorded, fails the caller's assertion
            results[i] = (None, repr(error))
        finally:
            conn.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


class Headers(dict):
    """A response's header fields, names as sent; lookups ignore case (`h["location"]`, `h.get("Retry-After")`)."""

    def __init__(self, fields):
        super().__init__(fields)
        self._lower = {name.lower(): name for name in self}

    def __getitem__(self, name):
        return super().__getitem__(self._lower.get(name.lower(), name))

    def __contains__(self, name):
        return name.lower() in self._lower

    def get(self, name, default=None):
        return self[name] if name in self else default


def request(method, url, body=None, headers=None, *, bearer=None, timeout=30, source=None, connection=None, sink=None):
    """One HTTP/1.1 request, redirects never followed: (status, `Headers`, body bytes).

    `body`: None (no body), bytes or str (sent as is), anything else is sent as JSON with Content-Type
    application/json. `bearer` adds `Authorization: Bearer …`; `source` is the client address (any 127.x is this
    host). A new connection is opened and closed unless `connection` (an http.client.HTTPConnection the caller
    keeps alive) is given. With `sink`, the body is handed to it in pieces of 1 MiB as it arrives (and b"" is
    returned): for bodies too big to hold."""
    parts = urllib.parse.urlsplit(url)
    fields = {}
    if body is not None and not isinstance(body, (bytes, bytearray, str)):
        body = json.dumps(body).encode()
        fields["Content-Type"] = "application/json"
    if bearer:
        fields["Authorization"] = f"Bearer {bearer}"
    fields.update(headers or {})
    conn = connection or http.client.HTTPConnection(
        parts.hostname, parts.port or 80, timeout=timeout, source_address=(source, 0) if source else None)
    try:
        conn.request(method, parts.path + (f"?{parts.query}" if parts.query else ""), body=body, headers=fields)
        response = conn.getresponse()
        if sink is None:
            return response.status, Headers(response.getheaders()), response.read()
        while piece := response.read(1 << 20):
            sink(piece)
        return response.status, Headers(response.getheaders()), b""
    finally:
        if connection is None:
            conn.close()


def read_response(sock, buffered=b""):
    """Reads one answer with a Content-Length (or none) from a raw socket, after `buffered` bytes already read:
    (status, lower-cased headers, body, the bytes after it)."""
    data = buffered
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise EOFError(data)
        data += chunk
    head, rest = data.split(b"\r\n\r\n", 1)
    lines = head.decode().split("\r\n")
    status = int(lines[0].split(" ")[1])
    headers = {k.lower(): v for k, v in (line.split(": ", 1) for line in lines[1:])}
    length = int(headers.get("content-length", "0"))
    while len(rest) < length:
        chunk = sock.recv(65536)
        if not chunk:
            raise EOFError(rest)
        rest += chunk
    return status, headers, rest[:length], rest[length:]


def read_to_end(sock):
    """Every byte `sock` receives until the peer closes."""
    data = b""
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            return data
        data += chunk


HEALTHZ_CLOSE = b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
