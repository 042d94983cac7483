"""Fleet mode against a hostile Redis (a fake on a loopback port; real Redis behaviour is tested in test_fleet_*.py):
after answering the AUTH each connection sends first, it answers every command with a reply over presignd's limits
or with garbage. The client must drop the connection as soon as the header that crosses a limit is read (the exact
error is in the 503 and the log), make it again (the fake sees a new connection), answer 503 meanwhile, and keep its
memory (VmHWM from /proc, reset with clear_refs before the attack) within a stated bound while the fake announces
1 GiB or sends 256 MiB of elements. The figures are printed (pytest -s shows them)."""
import select
import socket
import threading

import pytest

from conftest import wait_for
from harness.fleet import FAST_KEY, LINKS_UNAVAILABLE, limiter_unavailable, services, status_body  # noqa: F401

PASSWORD = "hostile-redis-pw"
MIB = 1 << 20
RSS_BOUND = 16 * MIB


def command_in(buffer):
    """The first whole RESP command (array of bulk strings) in `buffer` as a list of str, and the bytes it took."""
    index = 0

    def line():
        nonlocal index
        end = buffer.find(b"\r\n", index)
        if end < 0:
            return None
        value = int(buffer[index + 1:end])
        index = end + 2
        return value

    count = line() if buffer else None
    if count is None:
        return None
    words = []
    for _ in range(count):
        length = line() if index < len(buffer) else None
        if length is None or index + length + 2 > len(buffer):
            return None
        words.append(buffer[index:index + length].decode(errors="replace"))
        index += length + 2
    return words, index


class FakeRedis:
    """Answers AUTH with +OK, PING with +PONG, and any other command with `header`, then `unit` every `interval`
    seconds (0: as fast as the client reads) until the client closes or `limit` bytes of units are sent. Records per
    connection: the commands, the bytes of units sent, and whether the client closed it."""

    def __init__(self, header, unit=b"", interval=0.0, limit=0):
        self.header, self.unit, self.interval, self.limit = header, unit, interval, limit
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(16)
        self.port = self.listener.getsockname()[1]
        self.lock = threading.Lock()
        self.seen = []
        self.stopped = False
        threading.Thread(target=self.accept_loop, daemon=True).start()

    def stop(self):
        self.stopped = True
        self.listener.close()

    def connections(self):
        with self.lock:
            return [dict(entry) for entry in self.seen]

    def accept_loop(self):
        while not self.stopped:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            with self.lock:
                self.seen.append({"commands": [], "sent": 0, "closed_by_client": False})
                entry = self.seen[-1]
            threading.Thread(target=self.serve, args=(conn, entry), daemon=True).start()

    def serve(self, conn, entry):
        buffer = b""
        with conn:
            while not self.stopped:
                found = command_in(buffer)
                if found is None:
                    try:
                        chunk = conn.recv(65536)
                    except OSError:
                        chunk = b""
                    if not chunk:
                        entry["closed_by_client"] = True
                        return
                    buffer += chunk
                    continue
                words, used = found
                buffer = buffer[used:]
                with self.lock:
                    entry["commands"].append(words[0].upper())
                name = words[0].upper()
                try:
                    if name in ("AUTH", "PING"):
                        conn.sendall(b"+OK\r\n" if name == "AUTH" else b"+PONG\r\n")
                        continue
                    conn.sendall(self.header)
                    self.trickle(conn, entry)
                except OSError:
                    pass
                entry["closed_by_client"] = True
                return

    def trickle(self, conn, entry):
        while not self.stopped and self.unit and (not self.limit or entry["sent"] < self.limit):
            if self.interval:
                readable, _, _ = select.select([conn], [], [], self.interval)
                if readable and not conn.recv(65536, socket.MSG_DONTWAIT):
                    return
            conn.sendall(self.unit)
            entry["sent"] += len(self.unit)
        # Sent all it meant to: wait for the client to close.
        while not self.stopped:
            readable, _, _ = select.select([conn], [], [], 0.05)
            if readable and not conn.recv(65536):
                return


@pytest.fixture
def fakes():
    made = []

    def make(*args, **kw):
        fake = FakeRedis(*args, **kw)
        made.append(fake)
        return fake

    yield make
    for fake in made:
        fake.stop()


def start(services, fake, command_timeout_ms):
    return services(fake.port, workers=1, password_env="F_REDIS_PW", env={"F_REDIS_PW": PASSWORD},
                    command_timeout_ms=command_timeout_ms)


HOSTILE = {
    # (a) a 1 GiB bulk string announced, then 1 KiB every 10 ms
    "bulk": (dict(header=b"$1073741824\r\n", unit=b"x" * 1024, interval=0.01), "too_large",
             "reply too large (a bulk string of 1073741824 bytes (the limit is 1048576))"),
    # (b) 100,000,000 elements announced, then one every 5 ms
    "array": (dict(header=b"*100000000\r\n", unit=b":1\r\n", interval=0.005), "too_large",
              "reply too large (100000000 array elements in one reply (the limit is 1024))"),
    # (c) arrays in arrays, one level every 10 ms
    "deep": (dict(header=b"*1\r\n", unit=b"*1\r\n", interval=0.01), "too_large",
             "reply too large (arrays nested deeper than 8)"),
    # (d) not RESP
    "garbage": (dict(header=b"!garbage\r\n"), "protocol", "protocol error (byte 0x21 where a reply's type was expected)"),
}


@pytest.mark.parametrize("mode", list(HOSTILE))
def test_a_hostile_reply_drops_the_connection_at_its_header_and_it_is_made_again(services, fakes, mode):
    behaviour, kind, logged = HOSTILE[mode]
    fake = fakes(**behaviour)
    # A 10 s command timeout: a client that waited for the whole reply would answer "timeout" ten seconds later.
    service = start(services, fake, command_timeout_ms=10000)
    assert status_body(service.presign(FAST_KEY)) == (503, limiter_unavailable(kind))
    wait_for(lambda: len(fake.connections()) >= 2 and fake.connections()[0]["closed_by_client"], 10,
             lambda: f"presignd to close the first connection and open a second: {fake.connections()}", interval=0.01)
    first = fake.connections()[0]
    print(f"\n{mode}: {first['sent']} bytes sent after the header before presignd closed the connection")
    assert first["commands"] == ["AUTH", "EVALSHA"], first
    assert first["sent"] < 64 * 1024, first
    # Meanwhile every request is answered 503 (backing off, or the same reply again on the new connection); the
    # link route too; the process stays healthy.
    allowed = [(503, limiter_unavailable(kind)), (503, limiter_unavailable("unavailable"))]
    for _ in range(5):
        assert status_body(service.presign(FAST_KEY)) in allowed
        assert status_body(service.request("GET", "/l/" + "A" * 32)) == (503, LINKS_UNAVAILABLE)
        assert service.request("GET", "/healthz")[0] == 200
    wait_for(lambda: all(c["commands"][:1] == ["AUTH"] for c in fake.connections()), 10,
             lambda: f"every connection to begin with AUTH: {fake.connections()}", interval=0.01)
    wait_for(lambda: logged in service.output(), 10, lambda: f"the log line {logged!r}: {service.output()[-2000:]}", interval=0.01)
    assert service.metric("presignd_redis_errors_total", kind=kind) >= 1
    assert service.metric("presignd_redis_reconnects_total") >= 1


def vm_kib(pid, field):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise AssertionError(f"no {field} for {pid}")


FLOODS = {
    # (a) 1 GiB announced and sent as fast as presignd reads it
    "bulk": dict(header=b"$1073741824\r\n", unit=b"x" * MIB, limit=1024 * MIB),
    # (b) 100,000,000 elements announced, then 256 MiB of ":1\r\n" as fast as presignd reads them
    "array": dict(header=b"*100000000\r\n", unit=b":1\r\n" * (MIB // 4), limit=256 * MIB),
}


@pytest.mark.parametrize("mode", list(FLOODS))
def test_memory_stays_bounded_while_a_hostile_redis_floods(services, fakes, mode):
    fake = fakes(**FLOODS[mode])
    service = start(services, fake, command_timeout_ms=1000)  # the timeout the figures were taken with
    pid = service.proc.pid
    assert service.request("GET", "/healthz")[0] == 200
    before = vm_kib(pid, "VmRSS")
    with open(f"/proc/{pid}/clear_refs", "w") as f:
        f.write("5")  # VmHWM := VmRSS, so VmHWM below is the peak of the attack alone
    answers = [status_body(service.presign(FAST_KEY)) for _ in range(3)]
    wait_for(lambda: all(c["closed_by_client"] for c in fake.connections()), 10,
             lambda: f"presignd to close every connection: {fake.connections()}", interval=0.01)
    peak = vm_kib(pid, "VmHWM")
    sent = [c["sent"] for c in fake.connections()]
    growth = (peak - before) * 1024
    print(f"\nflood {mode}: VmRSS {before} KiB before, VmHWM {peak} KiB during: {growth / MIB:.1f} MiB grown; "
          f"{len(sent)} connections, {sum(sent) / MIB:.1f} MiB sent after the headers ({sent}); answers {answers}")
    assert answers[0] == (503, limiter_unavailable("too_large")), answers
    assert all(answer in [(503, limiter_unavailable("too_large")), (503, limiter_unavailable("unavailable"))]
               for answer in answers), answers
    assert growth < RSS_BOUND, f"{growth / MIB:.1f} MiB"
