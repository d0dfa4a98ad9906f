#!/usr/bin/env bash
# Issue 6 benchmark: the journal with a long history. A swarmd node (127.0.0.91) runs `swarm init` and
# stops; JournalBench appends EVENTS events to its journal through the service entities (services
# created, updated, removed, every event sealed in the hash chain); then, N runs each (medians):
#   audit replay:  `swarmd audit --json` of the whole journal, events/s;
#   verify:        `swarmd audit verify` (reads and checks every link);
#   recovery:      swarmd started again after kill -9, until `docker service ls` answers, and its own
#                  "journal replayed" figure; once without a view snapshot (the first start), then N times
#                  with the snapshot that start wrote.
# Usage: bench/journal.sh [EVENTS] [N]     (defaults 1000000 and 3); appends its table to BENCHMARKS.md.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

EVENTS=${1:-1000000}
N=${2:-3}
COMMAND="bench/journal.sh${*:+ $*}"
ADDR=127.0.0.91
API=tcp://$ADDR:2375
WORK=$(mktemp -d "$SWARMD_TMP/swarmd-journal.XXXXXX")
DATA=$WORK/data
JAR=daemon/target/swarmd.jar
DOCKER=$SWARMD_DOCKER
pid='' elapsed=0

say() { echo "== $*" >&2; }
median() { sort -g | awk '{a[NR] = $1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }
now_ms() { date +%s%3N; }

cleanup() {
  set +e
  if [[ -n $pid ]]; then kill -KILL -- "-$pid" 2>/dev/null; fi
  swarmd_engine ps -aq --filter label=dev.swarmd.node.hostname=bench-journal | xargs -r "$DOCKER" -H "$SWARMD_ENGINE_HOST" rm -f >/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT

# Starts swarmd on the data root; sets pid, and elapsed to the milliseconds until `docker service ls` answers.
start_swarmd() {
  local t0 t
  t0=$(now_ms)
  setsid bin/swarmd -H "$API" --data-root "$DATA" --hostname bench-journal >>"$WORK/swarmd.log" 2>&1 &
  pid=$!
  for ((i = 0; i < 1200; i++)); do
    if "$DOCKER" -H "$API" service ls >/dev/null 2>&1; then
      t=$(now_ms)
      elapsed=$((t - t0))
      return
    fi
    sleep 0.05
  done
  say "swarmd did not answer; its log:"; tail -20 "$WORK/swarmd.log" >&2; exit 1
}

kill9() { kill -KILL -- "-$pid"; wait "$pid" 2>/dev/null || true; pid=''; }

say "building"
mvn -B -ntp -q -DskipTests package -pl daemon,bench -am
swarmd_ensure_dockerd

say "a fresh swarm on $ADDR"
setsid bin/swarmd -H "$API" --data-root "$DATA" --hostname bench-journal >>"$WORK/swarmd.log" 2>&1 &
pid=$!
for ((i = 0; i < 600; i++)); do "$DOCKER" -H "$API" version >/dev/null 2>&1 && break; sleep 0.1; done
"$DOCKER" -H "$API" swarm init --advertise-addr "$ADDR" >/dev/null
kill -TERM -- "-$pid"; wait "$pid" 2>/dev/null || true; pid=''

say "writing $EVENTS events"
java -cp "$JAR:bench/target/classes" dev.swarmd.bench.JournalBench "$DATA" "$EVENTS" | tee "$WORK/write.txt" >&2
say "first start: no view snapshot yet, the whole journal is replayed (and a snapshot written)"
start_swarmd
first_ms=$elapsed
first_replay=$(grep -o "journal replayed: .* in [0-9]* ms" "$WORK/swarmd.log" | tail -1 | awk '{print $(NF-1)}')
kill9

declare -a REPLAY=() VERIFY=() RECOVERY=() REPLAYED=()
for ((r = 1; r <= N; r++)); do
  t0=$(now_ms); bin/swarmd audit --json --data-root "$DATA" >/dev/null; t=$(now_ms)
  REPLAY+=($((t - t0)))
  t0=$(now_ms); bin/swarmd audit verify --data-root "$DATA" >"$WORK/verify.txt"; t=$(now_ms)
  VERIFY+=($((t - t0)))
  start_swarmd
  RECOVERY+=("$elapsed")
  REPLAYED+=("$(grep -o "journal replayed: .* in [0-9]* ms" "$WORK/swarmd.log" | tail -1 | awk '{print $(NF-1)}')")
  kill9
  say "run $r: audit ${REPLAY[-1]} ms, verify ${VERIFY[-1]} ms, recovery ${RECOVERY[-1]} ms (replay ${REPLAYED[-1]} ms)"
done
cat "$WORK/verify.txt" >&2

replay_ms=$(printf '%s\n' "${REPLAY[@]}" | median)
verify_ms=$(printf '%s\n' "${VERIFY[@]}" | median)
recovery_ms=$(printf '%s\n' "${RECOVERY[@]}" | median)
replayed_ms=$(printf '%s\n' "${REPLAYED[@]}" | median)
rate=$(awk -v n="$EVENTS" -v ms="$replay_ms" 'BEGIN {printf "%.0f", n / (ms / 1000)}')
vrate=$(awk -v n="$EVENTS" -v ms="$verify_ms" 'BEGIN {printf "%.0f", n / (ms / 1000)}')
table=$(cat <<TABLE

### Journal: $EVENTS events ($(date -u +%Y-%m-%d), $(nproc) cores)

Command: \`$COMMAND\`. Medians of $N runs. Written: $(cat "$WORK/write.txt").

| measure | median | rate |
|---|---|---|
| \`swarmd audit --json\`, whole journal (JVM start included) | $replay_ms ms | $rate events/s |
| \`swarmd audit verify\` (every link recomputed) | $verify_ms ms | $vrate events/s |
| first start on that journal (no view snapshot yet), start to \`docker service ls\` answering | $first_ms ms | |
| of which the whole journal's replay into the read view | $first_replay ms | |
| recovery after kill -9 (from the view snapshot), start to \`docker service ls\` answering | $recovery_ms ms | |
| of which the journal replay after the snapshot | $replayed_ms ms | |
TABLE
)
echo "$table"
echo "$table" >> BENCHMARKS.md
