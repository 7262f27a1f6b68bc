#!/usr/bin/env bash
# scripts/trace2chrome's pCPU tracks: which vCPU ran when on each physical CPU, from
# the scheduler's switch events. First on dumps written here (formats 1 and 2, a
# switch that does not follow from the one before); then on a real one: the gdbtarget
# guest on 4 vCPUs sharing 2 pCPUs (vCPU n on pCPU n % 2), run for 1 s under gdb,
# stopped with Ctrl-C, its trace dumped. The default 2-vCPU case (no scheduler rings)
# is checked in tests/qemu/gdb.sh's python group.
test_name=trace2chrome
source "$(dirname "$0")/lib.sh"
GDB=${GDB:-gdb-multiarch}
tool=$top/scripts/trace2chrome

# ---- dumps written here -----------------------------------------------------------
# sched_line RING SEQ TIME PCPU OUT IN REASON: one switch as trace_dump prints it
# (meta: pcpu, vcpu in, class sched 16, op switch 7, reserved byte 0xff).
sched_line() {
	printf '%s %x %x 42201028 %x %x 0 0 %x\n' "$1" "$2" "$3" "$5" "$7" \
		$(($4 | $6 << 8 | 16 << 16 | 7 << 24 | 0xff << 48))
}
# wfi_line V P TIME TICKS: a WFI of vCPU V on pCPU P, TICKS in EL2, in V's ring (format 1: the
# ring is the pCPU's, the same number here); meta: pcpu, vcpu, class wfi 0, op wait 4.
wfi_line() { printf '%s 1 %x 42201028 0 0 7e00000 %x %x\n' "$1" "$3" "$4" $(($2 | $1 << 8 | 4 << 24 | 0xff << 48)); }

f1=$log_dir/trace2chrome-format1.txt
{ echo 'trapvisor-trace 1 cntfrq=1000000 pcpus=2'; wfi_line 1 1 100 50; } >"$f1"
out=$("$tool" "$f1" 2>&1) && res=$(python3 -c '
import json, sys
t = json.loads(sys.argv[1])["traceEvents"]
names = sorted(e["args"]["name"] for e in t if e["name"] == "thread_name")
assert names == ["vCPU 1"], names
w = [e for e in t if e["ph"] == "X"]
assert len(w) == 1 and w[0]["name"] == "wfi" and w[0]["ts"] == 100 and w[0]["dur"] == 50, w
' "$out" 2>&1)
verdict $? "a format-1 dump (before vCPUs shared pCPUs) still converts: its WFI on a vCPU 1 track, no pCPU track" "" \
	"${res:-}"$'\n'"$out"

f3=$log_dir/trace2chrome-format3.txt
echo 'trapvisor-trace 3 cntfrq=1000000 pcpus=2 vcpus=4' >"$f3"
out=$("$tool" "$f3" 2>&1)
rc=$?
[ $rc = 1 ] && [ "$out" = "trace2chrome: line 1: trace format 3, this tool reads 1 and 2" ]
verdict $? "a format it does not know is refused with its number (exit $rc)" "" "$out"

# pCPU 0 of 1, shared by vCPUs 0 and 1 (ring 2 = vcpus + 0), in microseconds (cntfrq 1 MHz):
# 100 idle->0, 200 0->1 (wfi), 300 1->idle (wfi), then 400 "0->idle": vCPU 0 was never
# switched in after 300 (a switch is missing), 500 idle->1 with no switch out before the
# dump ends at vCPU 1's WFI, 600 + 20.
f2=$log_dir/trace2chrome-sched.txt
{
	echo 'trapvisor-trace 2 cntfrq=1000000 pcpus=1 vcpus=2'
	wfi_line 0 1 600 20
	sched_line 2 0 100 0 255 0 5
	sched_line 2 1 200 0 0 1 0
	sched_line 2 2 300 0 1 255 0
	sched_line 2 3 400 0 0 255 0
	sched_line 2 4 500 0 255 1 5
} >"$f2"
out=$("$tool" "$f2" 2>"$f2.err")
err=$(cat "$f2.err")
res=$(python3 -c '
import json, sys
t = json.loads(sys.argv[1])["traceEvents"]
names = {(e["pid"], e["tid"]): e["args"]["name"] for e in t if e["name"] == "thread_name"}
pcpu0 = [k for k, n in names.items() if n == "pCPU 0"]
assert len(pcpu0) == 1 and "pCPU 1" not in names.values(), names
got = sorted((e["ts"], e["dur"], e["name"], e["args"]["in"], e["args"]["out"])
             for e in t if e["ph"] == "X" and (e["pid"], e["tid"]) == pcpu0[0])
want = [(100, 100, "vCPU 0", "idle", "wfi"), (200, 100, "vCPU 1", "wfi", "wfi"),
        (500, 120, "vCPU 1", "idle", "none before the dump ends")]
assert got == want, got
' "$out" 2>&1) && [ "$err" = "trace2chrome: warning: pCPU 0 switch #3 (t=0x190): switches out vCPU 0, but the last switch in was of the idle loop" ]
verdict $? "switches of one pCPU become vCPU slices, reasons in args; a missing switch is reported, not drawn" "" \
	"$res"$'\n'"$err"$'\n'"$(head -c 1500 <<<"$out")"

# ---- a real trace: 4 vCPUs on 2 pCPUs -----------------------------------------------
for t in "$GDB" qemu-system-aarch64; do
	command -v "$t" >/dev/null || { fail "setup" "$t is not installed (scripts/deps)"; exit 1; }
done
for f in "$top/build/trapvisor.elf" "$top/build/guests/gdbtarget.bin"; do
	[ -f "$f" ] || { fail "setup" "$f is missing (make all)"; exit 1; }
done
console=$log_dir/trace2chrome.console
port=$(free_port)
: >"$console" # before the background job opens it, for the wait below
timeout --kill-after=5 120 "$top/scripts/run-qemu" --quiet --smp 4 --pcpus 2 --gdb-port "$port" \
	--guest "$top/build/guests/gdbtarget.bin" </dev/null >"$console" 2>&1 &
qemu_pid=$!
trap 'kill $qemu_pid 2>/dev/null; wait $qemu_pid 2>/dev/null' EXIT
for _ in $(seq 1 300); do
	tr -d '\r' <"$console" | grep -q '^gdbtarget: ready, 4 vCPUs' && break
	sleep 0.2
done
if ! tr -d '\r' <"$console" | grep -q '^gdbtarget: ready, 4 vCPUs'; then
	fail "boot" "gdbtarget did not report 4 vCPUs ready within 60 s" "$(tr -d '\r' <"$console" | tail -n 20)"
	exit 1
fi
gdb_out=$log_dir/trace2chrome-gdb.out
SHELL=/bin/sh timeout --kill-after=5 60 "$GDB" -nx -batch -iex 'set osabi none' -ex 'set pagination off' \
	-ex 'set confirm off' -ex 'set remotetimeout 5' -ex "target remote 127.0.0.1:$port" \
	-ex 'shell (sleep 1; kill -INT $PPID) &' -ex 'continue' -ex 'echo \n@@dump@@\n' -ex 'monitor hv trace dump' \
	-ex 'echo \n@@end@@\n' -ex 'detach' "$top/build/guests/gdbtarget.elf" </dev/null >"$gdb_out" 2>&1
dump=$log_dir/trace2chrome-dump.txt
tr -d '\r' <"$gdb_out" | awk '$0 == "@@dump@@" { on = 1; next } $0 == "@@end@@" { on = 0 } on' >"$dump"
if ! grep -q 'received signal SIGINT' "$gdb_out" || ! grep -q '^trapvisor-trace 2 ' "$dump"; then
	fail "dump" "gdb did not stop the guest with Ctrl-C and dump its trace" "$(tail -n 20 "$gdb_out")"
	exit 1
fi
json=$log_dir/trace2chrome.json
"$tool" "$dump" >"$json" 2>"$json.err"
verdict $? "trace2chrome converts the dump of 4 vCPUs on 2 pCPUs" "" "$(cat "$json.err")"
# The pCPU tracks against the dump itself: every switch a vCPU came in by starts one of
# its slices there, every one it left by ends one (but a switch out of the ring's first
# line, whose switch in was overwritten).
res=$(python3 - "$dump" "$json" 2>&1 <<'PY'
import json, sys
lines = [l.split() for l in open(sys.argv[1])]
head = dict(w.split("=") for w in lines[0][2:])
freq, npcpus, nvcpus = int(head["cntfrq"]), int(head["pcpus"]), int(head["vcpus"])
t = json.load(open(sys.argv[2]))["traceEvents"]
names = {(e["pid"], e["tid"]): e["args"]["name"] for e in t if e["name"] == "thread_name"}
tracks = {n: k for k, n in names.items()}
assert npcpus == 2 and nvcpus == 4, lines[0]
assert "pCPU 0" in tracks and "pCPU 1" in tracks, sorted(names.values())
assert all("vCPU %d" % v in tracks for v in range(4)), sorted(names.values())
us = lambda ticks: ticks * 1e6 / freq
for p in range(npcpus):
    key = tracks["pCPU %d" % p]
    s = sorted((e for e in t if e["ph"] == "X" and (e["pid"], e["tid"]) == key), key=lambda e: e["ts"])
    ran = {e["name"] for e in s}
    assert len(ran) >= 2, "pCPU %d ran only %s" % (p, ran)
    placed = {"vCPU %d" % v for v in range(p, nvcpus, npcpus)}
    assert ran <= placed, "pCPU %d ran %s, but only %s are placed on it" % (p, ran, placed)
    for a, b in zip(s, s[1:]):
        assert a["ts"] + a["dur"] <= b["ts"] + 0.001, "pCPU %d: %s overlaps %s" % (p, a, b)
    assert all(e["args"]["in"] in ("wfi", "slice", "wake", "off", "debug", "idle") for e in s), s[:3]
    starts = {(round(e["ts"], 3), e["name"]) for e in s}
    ends = {(round(e["ts"] + e["dur"], 3), e["name"]) for e in s}
    ring = [[int(x, 16) for x in w[1:]] for w in lines[1:] if len(w) == 9 and w[0] == str(nvcpus + p)]
    assert len(ring) > 4, "pCPU %d's scheduler ring has %d switches" % (p, len(ring))
    for i, (seq, time, elr, out, value, esr, ticks, meta) in enumerate(ring):
        into = meta >> 8 & 0xff
        if into != 0xff:
            assert (round(us(time), 3), "vCPU %d" % into) in starts, "pCPU %d switch #%d: no slice starts" % (p, seq)
        if out != 0xff and i > 0:
            assert (round(us(time), 3), "vCPU %d" % out) in ends, "pCPU %d switch #%d: no slice ends" % (p, seq)
    assert len(s) == sum(1 for r in ring if r[7] >> 8 & 0xff != 0xff), "pCPU %d: slices beyond its switches" % p
PY
)
verdict $? "pCPU 0 and pCPU 1 tracks: at least two vCPUs each, only those placed there (n % 2), slices never overlap, one per switch in the dump" \
	"" "$res"$'\n'"$(head -n 3 "$dump"; grep -m 3 '^[45] ' "$dump")"
# The two kinds of track agree: a vCPU's own events (its trapped WFIs, the interrupts given
# to it) start while its pCPU's track shows it running (within the span that track covers).
res=$(python3 - "$json" 2>&1 <<'PY'
import bisect, json, sys
t = json.load(open(sys.argv[1]))["traceEvents"]
names = {(e["pid"], e["tid"]): e["args"]["name"] for e in t if e["name"] == "thread_name"}
ran, span = {}, {}
for e in t:
    if e["ph"] == "X" and names[(e["pid"], e["tid"])].startswith("pCPU "):
        ran.setdefault(e["args"]["vcpu"], []).append((e["ts"], e["ts"] + e["dur"]))
        a, b = span.get(e["args"]["pcpu"], (e["ts"], e["ts"]))
        span[e["args"]["pcpu"]] = (min(a, e["ts"]), max(b, e["ts"] + e["dur"]))
checked, outside = 0, []
for e in t:
    if e["ph"] not in ("X", "i") or not names[(e["pid"], e["tid"])].startswith("vCPU "):
        continue
    v, p, ts = e["tid"], e["args"]["pcpu"], e["ts"]
    if p not in span or not span[p][0] <= ts <= span[p][1]:
        continue
    runs = sorted(ran.get(v, []))
    i = bisect.bisect_right([a for a, b in runs], ts) - 1
    checked += 1
    if i < 0 or ts > runs[i][1] + 0.001:
        outside.append((v, e["name"], e["args"]["seq"], ts))
assert checked > 100 and not outside, "%d of %d events outside their vCPU's slices: %s" % (len(outside), checked, outside[:5])
PY
)
verdict $? "each vCPU's own events start while its pCPU's track shows that vCPU running" "" "$res"
[ ! -s "$json.err" ]
verdict $? "every switch in the dump follows from the one before it on its pCPU (trace2chrome warned of nothing)" "" \
	"$(cat "$json.err")"
[ $failures = 0 ]
