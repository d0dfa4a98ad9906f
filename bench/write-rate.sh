#!/usr/bin/env bash
# Several managers benchmark: acknowledged writes per second, and their latency, with 32 concurrent
# clients each making versioned updates of a service of its own (WriteRateBench, bench module: GET
# /services/{id} for Version.Index and Spec, then POST /services/{id}/update?version=N with a changed label,
# as `docker service update --label-add` does; the POST is the write: its latency is timed, and each POST
# answered 200 is one acknowledged write), for 30 s after a 5 s warm-up, on
#   (a) swarmd1: swarmd, one manager, on 127.0.0.131;
#   (b) swarmd3: swarmd, three managers on 127.0.0.132-134, the clients spread over their three APIs
#       (client i on manager i mod 3: the writes sent to a follower go on to the leader);
#   (c) docker:  Docker's own swarm mode on this machine's engine, through the engine's API
#       ($SWARMD_ENGINE_HOST): one manager, the only kind one engine can be.
# Usage: bench/write-rate.sh [RUNS]     RUNS runs per target (default 5), interleaved run by run
#   WRITE_RATE_TARGETS="swarmd1 swarmd3 docker"   targets to run (default all three)
#   WRITE_RATE_CLIENTS=32 WRITE_RATE_DURATION=30 WRITE_RATE_WARMUP=5   clients, seconds measured, warm-up
# Prints each run's figures as it ends, then a markdown block (median and min–max per target, the ratio
# of (b) to (c)) with the commit measured and this command.
#
# Durability, as shipped on both sides: a write is acknowledged once it is on disk. swarmd runs with fsync
# on (Ratis flushes its log before an entry counts toward a commit; the LevelDB journal the entry is
# applied to has fsync = on); Docker's swarmkit fsyncs its Raft WAL (etcd's) before entries are committed.
#
# The services have 0 replicas: no task, so no container competes with the managers for the CPU, and no
# image is ever looked up. They are created through the API, which never resolves an image in a registry
# (what `service create --no-resolve-image` asks of the CLI). The dockerd still gets
# DOCKER_SERVICE_PREFER_OFFLINE_IMAGE=1, and one already running without it is refused, as in bench/run.sh,
# so that every comparison with Docker's swarm mode here is made on the same engine set-up.
#
# Every run is on a fresh swarm: new processes and data roots for swarmd, a new swarm in the running
# dockerd for Docker (left with `swarm leave --force` after the run). Docker's swarm listens on 2377 and
# 7946 on every address, so no swarmd node can be up beside it, and a swarm idle beside the one measured
# would still take CPU.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

RUNS=${1:-5}
TARGETS=${WRITE_RATE_TARGETS:-swarmd1 swarmd3 docker}
CLIENTS=${WRITE_RATE_CLIENTS:-32}
DURATION=${WRITE_RATE_DURATION:-30}
WARMUP=${WRITE_RATE_WARMUP:-5}
COMMAND="$(for v in WRITE_RATE_TARGETS WRITE_RATE_CLIENTS WRITE_RATE_DURATION WRITE_RATE_WARMUP; do
  [[ -z ${!v:-} ]] || printf '%s="%s" ' "$v" "${!v}"
done)bench/write-rate.sh${*:+ $*}"
COMMIT=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)$([[ -z $(git status --porcelain -- . ':!BENCHMARKS.md' 2>/dev/null) ]] || echo -dirty)
OFFLINE=DOCKER_SERVICE_PREFER_OFFLINE_IMAGE=1
DOCKER=$SWARMD_DOCKER
JAR=bench/target/swarmd-bench.jar
DAEMON_JAR=daemon/target/swarmd.jar
WORK=$(mktemp -d "$SWARMD_TMP/swarmd-write-rate.XXXXXX")
ALL_NODES=(s1 t1 t2 t3)
declare -A ADDR=([s1]=127.0.0.131 [t1]=127.0.0.132 [t2]=127.0.0.133 [t3]=127.0.0.134)
# The bin/swarmd process of each node up (also its process group: setsid).
declare -A PID=()
engine_swarm=0 had_gwbridge=1 REASON=''
# Per target: each run's figures, space-separated, in run order; why a target stopped.
declare -A RATE=() P50=() P99=() FAILS=() FAILED=()

say() { echo "== $*" >&2; }
on() { local n=$1; shift; "$DOCKER" -H "tcp://${ADDR[$n]}:2375" "$@"; }

# stop_nodes: every swarmd node up stops (SIGTERM, its clean stop; SIGKILL after 30 s).
stop_nodes() {
  local n i
  for n in "${!PID[@]}"; do kill -TERM -- "-${PID[$n]}" 2>/dev/null || true; done
  for n in "${!PID[@]}"; do
    for ((i = 0; i < 60; i++)); do kill -0 "${PID[$n]}" 2>/dev/null || break; sleep 0.5; done
    kill -KILL -- "-${PID[$n]}" 2>/dev/null || true
  done
  PID=()
}

# Everything this script made goes, whatever happened: nodes, swarm, containers, networks, rules, dirs.
cleanup() {
  set +e
  local n ids=''
  stop_nodes
  ((engine_swarm)) && timeout 60 "$DOCKER" -H "$SWARMD_ENGINE_HOST" swarm leave --force >/dev/null 2>&1
  # No task ever runs (0 replicas); this is for a run that went wrong.
  for n in "${ALL_NODES[@]}"; do
    ids+=" $(swarmd_engine ps -aq --filter "label=dev.swarmd.node.hostname=bench-$n")"
  done
  # shellcheck disable=SC2086
  [[ -z ${ids// /} ]] || swarmd_engine rm -f $ids >/dev/null
  ((had_gwbridge)) || swarmd_engine network rm docker_gwbridge >/dev/null 2>&1
  swarmd_cleanup_host
  rm -rf "$WORK"
  swarmd_stop_dockerd_if_started
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# start N ROOT: swarmd node N on its address, data root ROOT/N, until its API answers; REASON on failure.
start() {
  local n=$1 i
  mkdir -p "$2/$n"
  setsid bin/swarmd -H "tcp://${ADDR[$n]}:2375" --data-root "$2/$n" --hostname "bench-$n" \
    >>"$WORK/$n.log" 2>&1 </dev/null &
  PID[$n]=$!
  disown "$!"
  for ((i = 0; i < 120; i++)); do
    curl -sf "http://${ADDR[$n]}:2375/_ping" >/dev/null && return 0
    kill -0 "${PID[$n]}" 2>/dev/null || break
    sleep 0.5
  done
  tail -n 20 "$WORK/$n.log" >&2
  REASON="swarmd $n did not answer on ${ADDR[$n]}:2375"
  return 1
}

# settled N...: every one of the managers N... lists them all Ready, one of them the leader.
settled() {
  local n out
  for n in "$@"; do
    out=$(on "$n" node ls --format '{{.Status}} {{.ManagerStatus}}' 2>/dev/null) || return 1
    [[ $(grep -cE '^Ready (Leader|Reachable)$' <<<"$out") == "$#" && $(grep -c ' Leader$' <<<"$out") == 1 ]] || return 1
  done
}

# make_swarm ROUND N...: the nodes N... started, a swarm initialised on the first, the others joined to it
# as managers (through it, the leader), until all list each other; REASON on failure.
make_swarm() {
  local round=$1 n token i
  shift
  for n in "$@"; do start "$n" "$WORK/$round" || return 1; done
  on "$1" swarm init --advertise-addr "${ADDR[$1]}" >/dev/null || { REASON="swarm init on $1 failed"; return 1; }
  if (($# > 1)); then
    token=$(on "$1" swarm join-token -q manager) || { REASON="join-token on $1 failed"; return 1; }
    for n in "${@:2}"; do
      on "$n" swarm join --token "$token" "${ADDR[$1]}:2377" >/dev/null || { REASON="$n did not join"; return 1; }
    done
  fi
  for ((i = 0; i < 600; i++)); do settled "$@" && return 0; sleep 0.2; done
  REASON="the managers $* did not all list each other Ready with a leader within 120 s"
  return 1
}

# bench HOSTS: one WriteRateBench run against the comma-separated API addresses; prints its RUN fields.
bench() {
  java -cp "$JAR" dev.swarmd.bench.WriteRateBench --hosts "$1" --clients "$CLIENTS" \
    --duration "$DURATION" --warmup "$WARMUP" >"$WORK/bench.out" || return 1
  grep '^RUN ' "$WORK/bench.out" | cut -d' ' -f2-
}

# run_once TARGET ROUND: one run of the target on a fresh swarm; prints "writes/s p50 p99 acknowledged
# failed", or fails with the reason in FAILED.
run_once() {
  local target=$1 round=$2 rc=0 node nodes=() apis='' n
  case $target in
    swarmd1 | swarmd3)
      nodes=(s1)
      [[ $target == swarmd1 ]] || nodes=(t1 t2 t3)
      for n in "${nodes[@]}"; do apis+="${apis:+,}tcp://${ADDR[$n]}:2375"; done
      if make_swarm "$round" "${nodes[@]}"; then
        bench "$apis" || rc=$?
      else
        FAILED[$target]=$REASON rc=1
      fi
      stop_nodes
      rm -rf "${WORK:?}/$round"
      ;;
    docker)
      timeout 60 "$DOCKER" -H "$SWARMD_ENGINE_HOST" swarm init --advertise-addr 127.0.0.1 >/dev/null ||
        { FAILED[docker]="'docker swarm init' on the engine failed"; return 1; }
      engine_swarm=1
      node=$(swarmd_engine info --format '{{.Swarm.NodeID}}')
      bench "$SWARMD_ENGINE_HOST" || rc=$?
      # The engine may be shared: say so if someone else left or re-made our swarm meanwhile.
      [[ $(swarmd_engine info --format '{{.Swarm.NodeID}}') == "$node" ]] ||
        { FAILED[docker]="the engine's swarm was changed by someone else during the run"; rc=1; }
      timeout 60 "$DOCKER" -H "$SWARMD_ENGINE_HOST" swarm leave --force >/dev/null 2>&1 || true
      engine_swarm=0
      ;;
  esac
  ((rc == 0)) || FAILED[$target]=${FAILED[$target]:-"run $round failed: see its error above"}
  return "$rc"
}

for target in $TARGETS; do
  case $target in
    swarmd1 | swarmd3 | docker) ;;
    *) say "unknown target '$target' (want swarmd1, swarmd3, docker)"; exit 2 ;;
  esac
done

SWARMD_DOCKERD_ENV="${SWARMD_DOCKERD_ENV:+$SWARMD_DOCKERD_ENV }$OFFLINE"
swarmd_ensure_throwaway_dockerd
if [[ " $TARGETS " == *" docker "* ]]; then
  rc=0
  swarmd_dockerd_has_env "$OFFLINE" || rc=$?
  if ((rc == 2)); then
    say "cannot find the dockerd process listening on $SWARMD_ENGINE_HOST to check its environment for $OFFLINE"; exit 1
  elif ((rc)); then
    say "the dockerd on $SWARMD_ENGINE_HOST (pid $(swarmd_dockerd_pid)) runs without $OFFLINE."
    say "Start it with the variable, or stop it and let this script start one; or leave Docker out:"
    say "WRITE_RATE_TARGETS=\"swarmd1 swarmd3\"."
    exit 1
  fi
  # Refuse to measure on an engine someone else is using for swarm work.
  if [[ $(swarmd_engine info --format '{{.Swarm.LocalNodeState}}') != inactive ]]; then
    say "the engine is already part of a swarm; leave it first (this script will not)"; exit 1
  fi
  swarmd_engine network inspect docker_gwbridge >/dev/null 2>&1 || had_gwbridge=0
fi
swarmd_build_test_images
# The daemon measured must be the commit recorded, and the bench jar must have WriteRateBench.
if [[ ! -f $JAR || ! -f $DAEMON_JAR ||
  -n $(find pom.xml protocol persistence manager worker http daemon \( -name pom.xml -o -path '*/src/main/*' \) \
    -newer "$DAEMON_JAR" 2>/dev/null) || -n $(find bench/pom.xml bench/src -newer "$JAR" 2>/dev/null) ]]; then
  say "building (log: $WORK/build.log)"
  if ! mvn -B -ntp -DskipTests package -pl daemon,bench -am >"$WORK/build.log" 2>&1; then
    grep -E 'ERROR' "$WORK/build.log" | head -n 5 >&2
    say "'mvn -DskipTests package' failed"; exit 1
  fi
fi

for ((round = 1; round <= RUNS; round++)); do
  for target in $TARGETS; do
    [[ -z ${FAILED[$target]:-} ]] || continue
    # (no pipe or command substitution around run_once: FAILED must survive it)
    run_once "$target" "$round" >"$WORK/run.out" || continue
    read -r rate p50 p99 acked failed <"$WORK/run.out"
    RATE[$target]+=" $rate" P50[$target]+=" $p50" P99[$target]+=" $p99" FAILS[$target]+=" $failed"
    say "run $round/$RUNS $target: $rate writes/s, POST p50 $p50 ms, p99 $p99 ms ($acked acknowledged, $failed failed)"
  done
done

# spread "V1 V2 ..." FORMAT: "median (min–max)" in FORMAT; "n/a" for none.
spread() {
  [[ -n ${1// /} ]] || { echo n/a; return; }
  tr ' ' '\n' <<<"$1" | grep . | sort -g | awk -v f="$2" '{ v[NR] = $1 } END {
    m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
    printf f " (" f "–" f ")", m, v[1], v[NR] }'
}
# ratio "A..." "B...": median of A / median of B.
ratio() {
  local a b
  a=$(spread "${1:-}" %.3f) b=$(spread "${2:-}" %.3f)
  [[ $a != n/a && $b != n/a ]] && awk -v a="${a%% *}" -v b="${b%% *}" 'BEGIN { printf "%.2fx", a / b }' || echo n/a
}
sum() { tr ' ' '\n' <<<"${1:-}" | awk '{ s += $1 } END { print s + 0 }'; }
row() { # LABEL TARGET
  echo "| $1 | $(spread "${RATE[$2]:-}" %.0f) | $(spread "${P50[$2]:-}" %.2f) | $(spread "${P99[$2]:-}" %.2f) | $(sum "${FAILS[$2]:-}") |"
}
engine_version=$(swarmd_engine version --format '{{.Server.Version}}')
cat <<EOF

### Acknowledged write rate: $(date -u '+%Y-%m-%d %H:%M UTC'), \`$COMMAND\` at $COMMIT ($(nproc) cores)

$CLIENTS clients, each updating its own service (0 replicas) in a loop: GET, then POST update?version=N with
a changed label; the POST is the write (its latency below; answered 200 = acknowledged). ${DURATION} s measured
after ${WARMUP} s of warm-up; targets interleaved run by run, each run on a fresh swarm; fsync on both sides
(swarmd as shipped; Docker's Raft WAL). Docker's dockerd with $OFFLINE.

| $RUNS run(s): median (min–max) | acknowledged writes/s | POST p50 ms | POST p99 ms | failed POSTs (all runs) |
| --- | ---: | ---: | ---: | ---: |
$(row "(a) swarmd, one manager" swarmd1)
$(row "(b) swarmd, three managers (clients spread over their three APIs)" swarmd3)
$(row "(c) Docker swarm mode (dockerd $engine_version, one manager)" docker)
| (b) / (c) (medians) | $(ratio "${RATE[swarmd3]:-}" "${RATE[docker]:-}") | $(ratio "${P50[swarmd3]:-}" "${P50[docker]:-}") | $(ratio "${P99[swarmd3]:-}" "${P99[docker]:-}") | |
| (a) / (c) (medians) | $(ratio "${RATE[swarmd1]:-}" "${RATE[docker]:-}") | $(ratio "${P50[swarmd1]:-}" "${P50[docker]:-}") | $(ratio "${P99[swarmd1]:-}" "${P99[docker]:-}") | |

Per run, in order (writes/s / POST p50 ms / POST p99 ms / failed):
$(for t in $TARGETS; do echo "- $t: ${RATE[$t]:-} /${P50[$t]:-} /${P99[$t]:-} /${FAILS[$t]:-}"; done)
EOF
for t in "${!FAILED[@]}"; do say "target $t gave no result: ${FAILED[$t]}"; done
((${#FAILED[@]} == 0))
