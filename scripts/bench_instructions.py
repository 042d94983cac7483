"""make bench-instructions: user-space instructions per request, counted by callgrind, which does not depend on
what else the machine is doing. presignd (release build, one worker) and nginx (the floor: the same socket, parse and
write work with nothing else) each run under `valgrind --tool=callgrind`; for each kind of request the driver sends
WARMUP requests on one keep-alive connection, zeroes the counters (callgrind_control -z), sends N more, dumps
(callgrind_control -d) and divides the dump's total by N.

    python3 scripts/bench_instructions.py PRESIGND_BINARY [N]
"""
import glob, http.client, json, os, shutil, signal, subprocess, sys, tempfile, time

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(HERE, "Tests", "integration"))
from harness import hot_routes  # noqa: E402  (the same routes and config as the allocation test)
sys.path.insert(0, os.path.join(HERE, "scripts"))
import stage_table  # noqa: E402

BIN = sys.argv[1]
N = int(sys.argv[2]) if len(sys.argv) > 2 else 2000
WARMUP = 200
ENV = dict(os.environ, **hot_routes.ENV)


def strip(binary):
    # Debian's valgrind cannot read Swift 6.3's DWARF 5; a copy without debug info keeps the symbols.
    copy = os.path.join(tempfile.mkdtemp(prefix="presignd-instr-"), os.path.basename(binary))
    subprocess.run(["strip", "--strip-debug", "-o", copy, binary], check=True)
    for resources in glob.glob(os.path.join(os.path.dirname(binary), "*.resources")):
        shutil.copytree(resources, os.path.join(os.path.dirname(copy), os.path.basename(resources)))
    return copy


def under_callgrind(command, out_dir):
    process = subprocess.Popen(
        ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out_dir}/callgrind.out.%p",
         *stage_table.CALLGRIND_FLAGS] + command,
        env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, start_new_session=True)
    return process


def wait_port(port, process, seconds=120):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"exited early: {process.stderr.read()[-2000:]}")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            connection.request("GET", "/healthz")
            connection.getresponse().read()
            return
        except OSError:
            time.sleep(0.3)
    raise SystemExit(f"port {port} never answered")


def total_instructions(pid, out_dir, label=None):
    for old in glob.glob(f"{out_dir}/callgrind.out.{pid}.*"):
        os.remove(old)
    subprocess.run(["callgrind_control", "-d", str(pid)], check=True, capture_output=True)
    deadline = time.time() + 60
    while time.time() < deadline:
        dumps = glob.glob(f"{out_dir}/callgrind.out.{pid}.*")
        if dumps:
            time.sleep(0.5)
            keep = os.environ.get("BENCH_PROFILE_DIR")
            if keep and label:
                # `callgrind_annotate --inclusive=yes DIR/<label>.out` shows where a kind's instructions go.
                os.makedirs(keep, exist_ok=True)
                shutil.copy(dumps[0], os.path.join(keep, "".join(c if c.isalnum() else "_" for c in label) + ".out"))
            return stage_table.split(dumps[0], N)
        time.sleep(0.2)
    raise SystemExit("callgrind wrote no dump")


def measure(pid, out_dir, port, request, label=None):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    hot_routes.send(connection, request, WARMUP)
    subprocess.run(["callgrind_control", "-z", str(pid)], check=True, capture_output=True)
    hot_routes.send(connection, request, N)
    stages = total_instructions(pid, out_dir, label)
    instructions, allocations = stages["total"]
    return instructions, allocations, stages


def main():
    out_dir = tempfile.mkdtemp(prefix="presignd-callgrind-")
    for leftover in glob.glob("/tmp/presignd-instructions-links.sqlite*"):
        os.remove(leftover)
    binary = strip(BIN)
    presignd = under_callgrind([binary, "serve", "--config", hot_routes.CONFIG,
                                "--workers", "1", "--admin-listen", "off", "--access-log", "off"], out_dir)
    results, allocations, stages = {}, {}, {}
    try:
        wait_port(18190, presignd)
        pid = presignd.pid
        setup = http.client.HTTPConnection("127.0.0.1", 18190, timeout=60)
        kinds = hot_routes.routes(setup)
        for name, requests in kinds:
            results[name], allocations[name], stages[name] = measure(pid, out_dir, 18190, requests, label=name)
            print(f"presignd {name}: {results[name]:,.0f} instructions, {allocations[name]:.1f} allocations/request",
                  flush=True)
    finally:
        os.killpg(presignd.pid, signal.SIGTERM)
        presignd.wait(timeout=120)
    nginx = under_callgrind(["nginx", "-c", os.path.join(HERE, "deploy/bench/nginx-instructions.conf"), "-p", "/tmp"], out_dir)
    try:
        wait_port(18191, nginx)
        floor, floor_allocations, _ = measure(nginx.pid, out_dir, 18191, ("GET", "/healthz", None, {}, 200))
        print(f"nginx GET /healthz (the floor): {floor:,.0f} instructions, {floor_allocations:.1f} allocations/request",
              flush=True)
    finally:
        os.killpg(nginx.pid, signal.SIGTERM)
        nginx.wait(timeout=60)
    print(json.dumps({"requests_per_kind": N, "presignd": {k: round(v) for k, v in results.items()},
                      "allocations": {k: round(v, 1) for k, v in allocations.items()},
                      "nginx_healthz": round(floor),
                      "ratio_to_nginx": {k: round(v / floor, 1) for k, v in results.items()}}, indent=1))
    print_tables(stages, results, allocations, floor)


SHORT = {"GET /healthz": "healthz", "POST /v1/presign (API key)": "presign", "POST /v1/presign (HS256 JWT, same token)":
         "JWT", "POST /v1/presign/batch (10 items)": "batch 10", "GET /l/{id} (share link redirect)": "link",
         "POST /v1/uploads/{upload}/parts (10 parts)": "10 parts"}


def print_tables(stages, results, allocations, floor):
    """The stage table (instructions / allocations per request, by stage and route) and the budget table."""
    routes = list(stages)
    print("\n| stage | " + " | ".join(SHORT.get(r, r) for r in routes) + " |")
    print("|---|" + "---:|" * len(routes))
    for stage in [name for name, _ in stage_table.STAGES] + ["other", "total"]:
        cells = [f"{stages[r][stage][0]:,.0f} / {stages[r][stage][1]:.1f}" for r in routes]
        print(f"| {stage} | " + " | ".join(cells) + " |")
    print(f"| nginx healthz | {floor:,.0f} | | | | | |")
    key = results.get("POST /v1/presign (API key)", 0)
    key_allocations = allocations.get("POST /v1/presign (API key)", 0)
    budgets = {"GET /healthz": (2 * floor, 4), "POST /v1/presign (API key)": (5 * floor, 20),
               "POST /v1/presign (HS256 JWT, same token)": (1.1 * key, 1.1 * key_allocations),
               "POST /v1/presign/batch (10 items)": (250_000, 100), "GET /l/{id} (share link redirect)": (80_000, 40)}
    print("\n| route | instructions | budget | | allocations | budget | |")
    print("|---|---:|---:|---|---:|---:|---|")
    for route, (instruction_budget, allocation_budget) in budgets.items():
        if route not in results:
            continue
        print(f"| {SHORT[route]} | {results[route]:,.0f} | {instruction_budget:,.0f} | "
              f"{'met' if results[route] <= instruction_budget else 'missed'} | {allocations[route]:.1f} | "
              f"{allocation_budget:.1f} | {'met' if allocations[route] <= allocation_budget else 'missed'} |")


main()
