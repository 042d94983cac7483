"""The stage table of `make bench-instructions`: one callgrind dump (taken with --separate-callers30 on the allocator's
entry points) split into the stages of a request. A stage is a set of entry functions, matched on their demangled
names with Swift's decorations (specialized, closure #N in, partial apply for...) taken off:

- instructions: the inclusive cost of every call into a stage's function from a function outside that stage (calls
  inside a stage are not counted twice); a call straight from one stage's function into another's moves its cost
  from the first stage to the second; what no stage claims is "other" (the loop, libuv, the handler's glue);
- allocations: each allocator call is given to the nearest stage function on its stack (30 callers deep); calls
  with no stage function that near are "other".

A function that is no stage's but is called only from one stage's functions (directly or through such functions:
the handler's helpers, closures, thunks) counts as that stage's for both rules.

Stages are disjoint in the call tree by construction of the map below; if a refactor renames or inlines an entry
function, its stage reads 0 and the cost moves to "other": keep STAGES in step with the code."""
import re
import subprocess

ALLOCATORS = {"malloc", "calloc", "realloc", "posix_memalign", "aligned_alloc", "memalign", "valloc"}
CALLGRIND_FLAGS = [f"--separate-callers30={name}" for name in sorted(ALLOCATORS)]

STAGES = [
    ("read+decode", [r"HTTPConnectionCore\.received\("]),
    ("route", [r"RouteTable.*\.resolve\(", r"Router\.resolve\("]),
    ("auth", [r"PresignService\.authenticate\("]),
    ("admit/limit", [r"RateLimit", r"KeyedRateLimiter\.", r"PresignService\.limitLinkClient\("]),
    ("intent decode", [r"(static )?Intent\.(presign|batch|decode|parts|complete|upload)", r"JSONMembers\.init",
                       r"(static )?UploadToken\.open\(", r"LinkID\.init", r"(static )?LinkCodec\.",
                       r"(static )?UploadRequests?\."]),
    ("policy", [r"(static )?PolicyEngine\."]),
    # The store thread whole (it runs nothing else), and the loop's side of a store call.
    ("store", [r"LinkStoreThread\.run\(", r"SQLiteLinkStore\.(use|fetch)\(", r"RedisLinkStore\."]),
    ("sign", [r"PresignService\.sign(Query|Form|Parts)?\(", r"S3Presigner\.", r"QuerySigner\.", r"FormSigner\.",
              r"SigV4Signer\.", r"SigV2Signer\.", r"PresignService\.redirect\("]),
    ("reply JSON", [r"JSONWriter\.", r"(static )?HTTPResponse\.json\("]),
    ("audit+metrics", [r"APIMetrics\.", r"PresignService\.audit", r"(?:closure #\d+ in )+PresignService\.metricsWrapper",
                       r"AuditLog\.", r"AuditEvent\."]),
    ("write", [r"ResponseContext\.respond\(", r"uv_write", r"Connection\.writeCompleted"]),
]
# Functions that are a stage's without being its entries: the store thread's own machinery.
MEMBERS = {"store": [r"SQLiteLinkStore\.(run|execute)", r"LinkDatabase\."]}
_COMPILED = [(name, re.compile("^(?:" + "|".join(patterns) + ")")) for name, patterns in STAGES]
_MEMBERS = [(name, re.compile("^(?:" + "|".join(patterns + MEMBERS.get(name, [])) + ")")) for name, patterns in STAGES]
_WRAPPER = re.compile(r"^(?:specialized |@objc |partial apply for |protocol witness for |merged )+")
_CLOSURE = re.compile(r"^(?:(?:specialized |@objc |partial apply for |protocol witness for |merged )*"
                      r"(?:implicit )?closure #\d+ in )+")


def _demangled(names):
    text = subprocess.run(["swift", "demangle", "--simplified"], input="\n".join(names), capture_output=True,
                          text=True, check=True).stdout.split("\n")
    return dict(zip(names, text))


def _stage_of(name, cache):
    """The stage `name` is an entry of: the function itself (specialised or wrapped), never a closure in it."""
    if name not in cache:
        plain = _WRAPPER.sub("", name)
        cache[name] = next((stage for stage, pattern in _COMPILED if pattern.match(plain)), None)
    return cache[name]


def _member_of(name, cache):
    """The stage `name` belongs to: an entry, a closure in one, or one of the stage's MEMBERS."""
    if name not in cache:
        plain = _CLOSURE.sub("", _WRAPPER.sub("", name))
        cache[name] = next((stage for stage, pattern in _MEMBERS if pattern.match(plain)), None)
    return cache[name]


def split(path, requests):
    """{stage: (instructions per request, allocations per request)} for one dump, with "other" and "total"."""
    names, arcs, allocations, total = {}, [], [], 0
    caller = callee = ""
    pending_call = None
    with open(path, errors="replace") as handle:
        for line in handle:
            if line.startswith(("fn=", "cfn=")):
                key, _, rest = line.rstrip("\n").partition("=")
                if rest.startswith("("):
                    number, _, name = rest[1:].partition(")")
                    if name:
                        names[number] = name.strip()
                    rest = names.get(number, "?")
                if key == "fn":
                    caller = rest
                else:
                    callee = rest
            elif line.startswith("calls="):
                pending_call = int(line[6:].split()[0])
            elif pending_call is not None:
                # The line after `calls=` carries the call's inclusive cost.
                parts = line.split()
                arcs.append((caller, callee, int(parts[1]) if len(parts) > 1 else 0, pending_call))
                pending_call = None
            elif line.startswith(("summary:", "totals:")) and not total:
                total = int(line.split()[1])
    plain_names = {part for caller, callee, _, _ in arcs for name in (caller, callee) for part in name.split("'")}
    readable = _demangled(sorted(plain_names))
    entries, members = {}, {}

    def stage(name):
        return _stage_of(readable.get(name, name), entries)

    def member(name):
        return _member_of(readable.get(name, name), members)

    # A function that is not a stage's but is called only from one stage (directly or through such functions) belongs
    # to that stage: a call from it into another stage moves cost out of the first, as a direct call would.
    callers = {}
    for caller, callee, _, _ in arcs:
        callers.setdefault(callee.split("'")[0], set()).add(caller.split("'")[0])
    owner = {name: member(name) for name in callers}
    for _ in range(30):
        changed = False
        for name, sources in callers.items():
            if owner.get(name):
                continue
            owners = {owner.get(source) or member(source) for source in sources}
            if len(owners) == 1 and None not in owners:
                owner[name] = owners.pop()
                changed = True
        if not changed:
            break

    def owned(name):
        return owner.get(name) or member(name)

    instructions = {name: 0 for name, _ in STAGES}
    allocs = {name: 0 for name, _ in STAGES}
    allocs["other"] = 0
    for caller, callee, cost, count in arcs:
        callee_parts, caller_parts = callee.split("'"), caller.split("'")
        if callee_parts[0] in ALLOCATORS and caller_parts[0] not in ALLOCATORS and not caller_parts[0].startswith(
                ("_mid_memalign", "_int_", "__libc_")):
            # The allocator's context names its callers, nearest first.
            allocs[next((s for s in map(owned, callee_parts[1:]) if s), "other")] += count
        target, source = stage(callee_parts[0]), owned(caller_parts[0])
        if target and source != target:
            instructions[target] += cost
            if source:
                # A stage called straight from another stage's function: its cost is taken out of the caller's.
                instructions[source] -= cost
    instructions["other"] = total - sum(instructions.values())
    table = {name: (instructions[name] / requests, allocs[name] / requests) for name in instructions}
    table["total"] = (total / requests, sum(allocs.values()) / requests)
    return table
