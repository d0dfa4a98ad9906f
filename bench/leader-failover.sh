#!/usr/bin/env bash
# Several managers benchmark: how long the swarm takes writes again after its Raft leader dies.
# Three swarmd managers on 127.0.0.121-123 (data roots under a temporary directory) share this machine's
# engine, with one service, lf (alpine sleep 3600, 1 replica). Each run:
#   1. the leader is the manager `docker node ls` on a live manager lists as Leader;
#   2. FailoverBench (bench module), already started, with one update acknowledged through a surviving
#      manager (so JVM start-up, class loading and connecting are not counted), kills the leader's JVM
#      with SIGKILL itself and at once retries a versioned update of lf through that survivor, every 50 ms
#      (GET /services/lf for Version.Index and Spec, POST /services/{id}/update?version=N with a new label:
#      what `docker service update --label-add` sends) until one is answered 200: the time from the kill
#      to that acknowledgement is the run's figure;
#   3. the new leader is read from the survivor's `docker node ls`, the killed manager is started again on
#      its data root, and the next run waits until every manager lists three Ready managers and a leader.
# The JVM alone is killed, as a crash of the daemon would end it: bin/swarmd execs java, or runs it as
# its child (when it makes its class-data archive), and a child's death ends the wrapper too.
# Usage: bench/leader-failover.sh [RUNS]   (default 20). Prints every run as it ends, then the median,
# min and max (the worst run) as a markdown block, with the commit measured and this command.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

RUNS=${1:-20}
COMMAND="bench/leader-failover.sh${*:+ $*}"
COMMIT=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)$([[ -z $(git status --porcelain -- . ':!BENCHMARKS.md' 2>/dev/null) ]] || echo -dirty)
DOCKER=$SWARMD_DOCKER
JAR=bench/target/swarmd-bench.jar
DAEMON_JAR=daemon/target/swarmd.jar
WORK=$(mktemp -d "$SWARMD_TMP/swarmd-leader-failover.XXXXXX")
SERVICE=lf
NODES=(lf1 lf2 lf3)
declare -A ADDR=([lf1]=127.0.0.121 [lf2]=127.0.0.122 [lf3]=127.0.0.123)
# The bin/swarmd process of each node started (also its process group: setsid).
declare -A PID=()

say() { echo "== $*" >&2; }
on() { local n=$1; shift; "$DOCKER" -H "tcp://${ADDR[$n]}:2375" "$@"; }

# Everything this script made goes, whatever happened: nodes, their containers, their host rules, dirs.
cleanup() {
  set +e
  local n i ids=''
  for n in "${!PID[@]}"; do kill -TERM -- "-${PID[$n]}" 2>/dev/null; done
  for n in "${!PID[@]}"; do
    for ((i = 0; i < 60; i++)); do kill -0 "${PID[$n]}" 2>/dev/null || break; sleep 0.5; done
    kill -KILL -- "-${PID[$n]}" 2>/dev/null
  done
  # The containers of service lf that our nodes ran, killed ones' included (only our nodes carry these hostnames).
  for n in "${NODES[@]}"; do
    ids+=" $(swarmd_engine ps -aq --filter "label=dev.swarmd.node.hostname=bench-$n")"
  done
  # shellcheck disable=SC2086
  [[ -z ${ids// /} ]] || swarmd_engine rm -f $ids >/dev/null
  # The nat chains and rules that the killed JVMs could not remove.
  swarmd_cleanup_host
  rm -rf "$WORK"
  swarmd_stop_dockerd_if_started
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# start N: swarmd node N on its address and data root (kept across restarts), until its API answers.
start() {
  local n=$1 i
  mkdir -p "$WORK/$n"
  setsid bin/swarmd -H "tcp://${ADDR[$n]}:2375" --data-root "$WORK/$n" --hostname "bench-$n" \
    >>"$WORK/$n.log" 2>&1 </dev/null &
  PID[$n]=$!
  disown "$!"
  for ((i = 0; i < 120; i++)); do
    curl -sf "http://${ADDR[$n]}:2375/_ping" >/dev/null && return
    kill -0 "${PID[$n]}" 2>/dev/null || break
    sleep 0.5
  done
  say "swarmd $n did not answer on ${ADDR[$n]}:2375; the end of its log:"
  tail -n 20 "$WORK/$n.log" >&2
  exit 1
}

# jvm_pid N: the JVM of node N: bin/swarmd itself once it has exec'd java, else its java child.
jvm_pid() {
  local p=${PID[$1]}
  if [[ $(cat "/proc/$p/comm" 2>/dev/null) == java ]]; then
    echo "$p"
  else
    pgrep -P "$p" -x java | head -n 1 | grep .
  fi
}

# leader_on N: the node (lf1...) that node N's `docker node ls` lists as Leader; empty if none.
leader_on() {
  { on "$1" node ls --format '{{.Hostname}} {{.ManagerStatus}}' 2>/dev/null || true; } |
    awk '$2 == "Leader" { sub(/^bench-/, "", $1); print $1 }'
}

# settled: every manager lists three Ready managers, one of them the leader.
settled() {
  local n out
  for n in "${NODES[@]}"; do
    out=$(on "$n" node ls --format '{{.Status}} {{.ManagerStatus}}' 2>/dev/null) || return 1
    [[ $(grep -cE '^Ready (Leader|Reachable)$' <<<"$out") == 3 && $(grep -c ' Leader$' <<<"$out") == 1 ]] || return 1
  done
}

# new_leader_on N OLD: node N lists a leader other than OLD; sets NEW to it.
new_leader_on() {
  NEW=$(leader_on "$1")
  [[ -n $NEW && $NEW != "$2" ]]
}

# wait_for WHAT SECONDS COMMAND...: until COMMAND succeeds, polled every 0.2 s; exits on a timeout.
wait_for() {
  local what=$1 secs=$2 i
  shift 2
  for ((i = 0; i < secs * 5; i++)); do "$@" && return; sleep 0.2; done
  say "gave up after $secs s waiting for $what"
  exit 1
}

swarmd_ensure_throwaway_dockerd
swarmd_build_test_images
# The daemon measured must be the commit recorded, and the bench jar must have FailoverBench.
if [[ ! -f $JAR || ! -f $DAEMON_JAR ||
  -n $(find pom.xml protocol persistence manager worker http daemon bench \( -name pom.xml -o -path '*/src/main/*' \) \
    -newer "$DAEMON_JAR" 2>/dev/null) || -n $(find bench/pom.xml bench/src -newer "$JAR" 2>/dev/null) ]]; then
  say "building (log: $WORK/build.log)"
  if ! mvn -B -ntp -DskipTests package -pl daemon,bench -am >"$WORK/build.log" 2>&1; then
    grep -E 'ERROR' "$WORK/build.log" | head -n 5 >&2
    say "'mvn -DskipTests package' failed"; exit 1
  fi
fi

say "three managers on ${ADDR[lf1]}, ${ADDR[lf2]}, ${ADDR[lf3]}"
for n in "${NODES[@]}"; do start "$n"; done
on lf1 swarm init --advertise-addr "${ADDR[lf1]}" >/dev/null
token=$(on lf1 swarm join-token -q manager)
# Joined through the leader, lf1, one after the other.
for n in lf2 lf3; do on "$n" swarm join --token "$token" "${ADDR[lf1]}:2377" >/dev/null; done
wait_for "three Ready managers and a leader" 120 settled
on lf1 service create -d -q --no-resolve-image --name "$SERVICE" --replicas 1 alpine sleep 3600 >/dev/null

MS=() LINES=()
for ((run = 1; run <= RUNS; run++)); do
  old=$(leader_on lf1)
  [[ -n $old ]] || old=$(leader_on lf2)
  [[ -n $old ]] || { say "run $run: no manager lists a leader"; exit 1; }
  # The client's manager: the first survivor (it may become the leader or stay a follower).
  for via in "${NODES[@]}"; do [[ $via == "$old" ]] || break; done
  pid=$(jvm_pid "$old") || { say "run $run: no JVM found under swarmd $old (pid ${PID[$old]})"; exit 1; }
  if ! out=$(java -cp "$JAR" dev.swarmd.bench.FailoverBench --api "tcp://${ADDR[$via]}:2375" \
    --service "$SERVICE" --kill "$pid" --timeout 120); then
    say "run $run: no write acknowledged after killing $old"; exit 1
  fi
  read -r _ ms attempts gone <<<"$(grep '^RUN ' <<<"$out")"
  NEW=''
  wait_for "a new leader listed on $via" 30 new_leader_on "$via" "$old"
  MS+=("$ms")
  line=$(printf 'run %2d/%d: old leader bench-%s, new leader bench-%s, %s ms (kill to acknowledged write through bench-%s; %s attempt(s); JVM gone after %s ms)' \
    "$run" "$RUNS" "$old" "$NEW" "$ms" "$via" "$attempts" "$gone")
  LINES+=("$line")
  echo "$line"
  start "$old"
  wait_for "three Ready managers and a leader after restarting $old" 180 settled
done

stats=$(printf '%s\n' "${MS[@]}" | sort -n | awk '{ v[NR] = $1 } END {
  m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
  printf "%d %d %d", m, v[1], v[NR] }')
read -r median min max <<<"$stats"
cat <<EOF

### Leader failover: $(date -u '+%Y-%m-%d %H:%M UTC'), \`$COMMAND\` at $COMMIT ($(nproc) cores)

Three swarmd managers on one machine; each run kills the Raft leader's JVM with \`kill -9\` and retries a
versioned service update (GET + POST update?version=N) through a surviving manager every 50 ms until one
is acknowledged (200); then the killed manager is restarted and rejoins before the next run.

| runs | kill → acknowledged write, ms: median | min | max (worst) |
|---:|---:|---:|---:|
| $RUNS | $median | $min | $max |

Every run:
$(printf -- '- %s\n' "${LINES[@]}")
EOF
