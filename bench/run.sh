#!/usr/bin/env bash
# Issue 2 benchmark: how long `docker service create -d --replicas 50` takes until 50
# containers run on the engine, and `docker service scale -d b=0` until none is left, on
#   (a) docker: Docker's own swarm mode on the real dockerd,
#   (b) swarmd: a swarmd started here on tcp://127.0.0.1:23750,
#   (c) floor:  50 plain containers created/started/removed straight through docker-java.
# Usage: bench/run.sh [N]        N runs per part (default 5)
#   BENCH_PARTS="docker swarmd floor"   parts to run (default all three)
#   BENCH_PROFILE=1                     then one more swarmd run, not counted, broken down by
#                                       phase (bench StartProfile) from the audit journal and
#                                       the engine's events
# Prints each run's figures as it ends, then a markdown table (median and min–max per part),
# and appends it, with the commit measured and this command, to BENCHMARKS.md when every part ran.
#
# Fair to Docker: its swarm worker asks the registry for each task's image unless its dockerd
# runs with DOCKER_SERVICE_PREFER_OFFLINE_IMAGE=1 (as moby's own integration tests run it); with
# no registry reachable that is failed look-ups inside the timed window. A dockerd this script
# starts gets the variable; with one already running the script checks its environment and
# refuses to measure Docker without it. Both swarms get `service create --no-resolve-image`.
#
# The parts run interleaved (docker, swarmd, floor, then again), so a drift of the machine spreads
# over all parts instead of landing on one. Each swarm is made before each of its runs and unmade
# after it: Docker's listens on 2377 on all addresses and on 7946, swarmd's on both on its advertise
# address, 127.0.0.1 (besides its API on 127.0.0.1:23750 and its DNS on port 7953 there), so the two cannot be up together; and a swarm idle beside the one
# measured would still take CPU. So every run starts on a fresh swarm: for swarmd a new process and
# data root (a JVM that earlier runs did not warm up), for Docker a new swarm in the running dockerd.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

N=${1:-5}
PARTS=${BENCH_PARTS:-docker swarmd floor}
PROFILE=${BENCH_PROFILE:-}
COMMAND="${BENCH_PARTS:+BENCH_PARTS=\"$BENCH_PARTS\" }${PROFILE:+BENCH_PROFILE=$PROFILE }bench/run.sh${*:+ $*}"
# BENCHMARKS.md is left out: earlier runs append to it.
COMMIT=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)$([[ -z $(git status --porcelain -- . ':!BENCHMARKS.md' 2>/dev/null) ]] || echo -dirty)
OFFLINE=DOCKER_SERVICE_PREFER_OFFLINE_IMAGE=1
SWARMD_ADDR=127.0.0.1:23750
JAR=bench/target/swarmd-bench.jar
DAEMON_JAR=daemon/target/swarmd.jar
WORK=$(mktemp -d "$SWARMD_TMP/swarmd-bench.XXXXXX")
DOCKER=$SWARMD_DOCKER
engine_swarm=0 swarmd_pid='' events_pid='' had_gwbridge=1 profile_table=''
# Per part: each run's seconds, space-separated, in run order; why a part stopped.
declare -A UP=() DOWN=() FAILED=()

say() { echo "== $*" >&2; }

# Everything this script made goes, whatever happened: service, swarm, swarmd, containers, dirs.
cleanup() {
  set +e
  [[ -z $events_pid ]] || kill "$events_pid" 2>/dev/null
  if [[ -n $swarmd_pid ]]; then
    timeout 30 "$DOCKER" -H "tcp://$SWARMD_ADDR" service rm b >/dev/null 2>&1
    stop_swarmd
  fi
  if ((engine_swarm)); then
    timeout 30 "$DOCKER" -H "$SWARMD_ENGINE_HOST" service rm b >/dev/null 2>&1
    timeout 60 "$DOCKER" -H "$SWARMD_ENGINE_HOST" swarm leave --force >/dev/null
  fi
  # Leftovers on the engine (we checked at the start that none of these pre-existed).
  local ids
  ids="$(swarmd_engine ps -aq --filter label=com.docker.swarm.service.name=b) $(swarmd_engine ps -aq --filter label=dev.swarmd.bench)"
  # shellcheck disable=SC2086
  [[ -z ${ids// /} ]] || swarmd_engine rm -f $ids >/dev/null
  ((had_gwbridge)) || swarmd_engine network rm docker_gwbridge >/dev/null 2>&1
  rm -rf "$WORK"
  swarmd_stop_dockerd_if_started
}
trap cleanup EXIT

SWARMD_DOCKERD_ENV="${SWARMD_DOCKERD_ENV:+$SWARMD_DOCKERD_ENV }$OFFLINE"
swarmd_ensure_throwaway_dockerd
if [[ " $PARTS " == *" docker "* ]]; then
  rc=0
  swarmd_dockerd_has_env "$OFFLINE" || rc=$?
  if ((rc == 2)); then
    say "cannot find the dockerd process listening on $SWARMD_ENGINE_HOST to check its environment for $OFFLINE"; exit 1
  elif ((rc)); then
    say "the dockerd on $SWARMD_ENGINE_HOST (pid $(swarmd_dockerd_pid)) runs without $OFFLINE:"
    say "its swarm would look every task's image up in the registry inside the timed window."
    say "Start it with the variable (\`$OFFLINE dockerd\`, or Environment=$OFFLINE in its systemd unit), or"
    say "stop it and let this script start one; or leave Docker out: BENCH_PARTS=\"swarmd floor\"."
    exit 1
  fi
fi
swarmd_build_test_images
if [[ ! -f $JAR || -n $(find bench/pom.xml bench/src -newer "$JAR" 2>/dev/null) ]]; then
  say "building $JAR"
  mvn -B -ntp -q -f bench/pom.xml -DskipTests package
fi
# The daemon measured must be the commit recorded: rebuilt when any of its sources is newer.
if [[ " $PARTS " == *" swarmd "* || -n $PROFILE ]] && [[ ! -f $DAEMON_JAR ||
  -n $(find pom.xml protocol persistence manager worker http daemon \( -name pom.xml -o -path '*/src/main/*' \) \
    -newer "$DAEMON_JAR" 2>/dev/null) ]]; then
  say "building $DAEMON_JAR (log: $WORK/build.log)"
  if ! mvn -B -ntp -DskipTests package >"$WORK/build.log" 2>&1; then
    grep -E 'ERROR' "$WORK/build.log" | head -n 5 >&2
    say "'mvn -DskipTests package' failed"; exit 1
  fi
fi

# Refuse to measure on an engine someone else is using for swarm work: we would disturb it
# and count its containers.
if [[ $(swarmd_engine info --format '{{.Swarm.LocalNodeState}}') != inactive ]]; then
  say "the engine is already part of a swarm; leave it first (this script will not)"; exit 1
fi
if [[ -n $(swarmd_engine ps -aq --filter label=com.docker.swarm.service.name=b) ]]; then
  say "containers labelled com.docker.swarm.service.name=b already exist on the engine; remove them first"; exit 1
fi
swarmd_engine network inspect docker_gwbridge >/dev/null 2>&1 || had_gwbridge=0

# java_run PART [ARGS...]: one run of the Java part; prints its RUN line's fields after the part.
java_run() {
  local part=$1 out
  shift
  out=$(java -jar "$JAR" "$part" --engine "$SWARMD_ENGINE_HOST" --docker "$DOCKER" --runs 1 "$@") || return 1
  grep '^RUN ' <<<"$out" | cut -d' ' -f3-
}

# start_swarmd DATA_ROOT: a new swarmd on SWARMD_ADDR, in a swarm of its own; the reason in FAILED on failure.
start_swarmd() {
  mkdir -p "$1"
  setsid bin/swarmd -H "tcp://$SWARMD_ADDR" --data-root "$1" --hostname bench \
    --engine "$SWARMD_ENGINE_HOST" >>"$WORK/swarmd.log" 2>&1 </dev/null &
  swarmd_pid=$!
  for ((i = 0; i < 120; i++)); do
    curl -sf "http://$SWARMD_ADDR/_ping" >/dev/null && break
    kill -0 "$swarmd_pid" 2>/dev/null || break
    sleep 0.5
  done
  if ! curl -sf "http://$SWARMD_ADDR/_ping" >/dev/null; then
    tail -n 20 "$WORK/swarmd.log" >&2
    FAILED[swarmd]="swarmd did not answer on $SWARMD_ADDR within 60 s"
    return 1
  fi
  timeout 60 "$DOCKER" -H "tcp://$SWARMD_ADDR" swarm init --advertise-addr 127.0.0.1 >/dev/null ||
    { FAILED[swarmd]="'docker swarm init' on swarmd failed"; return 1; }
}

stop_swarmd() {
  [[ -n $swarmd_pid ]] || return 0
  kill -TERM -- "-$swarmd_pid" 2>/dev/null || true
  for ((i = 0; i < 60; i++)); do kill -0 "$swarmd_pid" 2>/dev/null || break; sleep 0.5; done
  kill -KILL -- "-$swarmd_pid" 2>/dev/null || true
  swarmd_pid=
}

# run_once PART ROUND: one run of the part in its own swarm; prints "create s, remove s, create
# called ms, create returned ms" (the floor: the first two), or fails with the reason in FAILED.
run_once() {
  local part=$1 round=$2 node rc=0
  case $part in
    docker)
      timeout 60 "$DOCKER" -H "$SWARMD_ENGINE_HOST" swarm init --advertise-addr 127.0.0.1 >/dev/null ||
        { FAILED[docker]="'docker swarm init' on the engine failed"; return 1; }
      engine_swarm=1
      node=$(swarmd_engine info --format '{{.Swarm.NodeID}}')
      java_run service --swarm-host "$SWARMD_ENGINE_HOST" || rc=$?
      # The engine may be shared: say so if someone else left or re-made our swarm meanwhile.
      [[ $(swarmd_engine info --format '{{.Swarm.NodeID}}') == "$node" ]] ||
        { FAILED[docker]="the engine's swarm was changed by someone else during the run"; rc=1; }
      timeout 60 "$DOCKER" -H "$SWARMD_ENGINE_HOST" swarm leave --force >/dev/null 2>&1 || true
      engine_swarm=0
      ;;
    swarmd)
      start_swarmd "$WORK/swarmd-$round" || { stop_swarmd; return 1; }
      java_run service --swarm-host "tcp://$SWARMD_ADDR" || rc=$?
      stop_swarmd
      ;;
    floor) java_run floor || rc=$? ;;
  esac
  ((rc == 0)) || FAILED[$part]=${FAILED[$part]:-"run $round failed: see its error above"}
  return "$rc"
}

for part in $PARTS; do
  case $part in
    docker | swarmd | floor) ;;
    *) say "unknown part '$part' (want docker, swarmd, floor)"; exit 2 ;;
  esac
done
for ((round = 1; round <= N; round++)); do
  for part in $PARTS; do
    [[ -z ${FAILED[$part]:-} ]] || continue
    # (no pipe or command substitution around run_once: FAILED must survive it)
    run_once "$part" "$round" >"$WORK/run.out" || continue
    read -r up down _ <"$WORK/run.out"
    UP[$part]+=" $up" DOWN[$part]+=" $down"
    say "run $round/$N $part: create → 50 running $up s, scale 0 → none left $down s"
  done
done

# One more swarmd run, not counted: its audit journal and the engine's container events, by phase.
# A failed profile costs only itself: the runs above stand.
if [[ -n $PROFILE && -z ${FAILED[swarmd]:-} ]]; then
  say "profile: one more swarmd run, not counted"
  data=$WORK/swarmd-profile
  if start_swarmd "$data"; then
    # --since: what happens while the stream itself starts is replayed, not missed.
    "$DOCKER" -H "$SWARMD_ENGINE_HOST" events --since "$(date +%s.%N)" --filter type=container \
      --filter label=com.docker.swarm.service.name=b --filter event=create --filter event=start \
      --format '{{json .}}' >"$WORK/events.jsonl" &
    events_pid=$!
    rc=0
    java_run service --swarm-host "tcp://$SWARMD_ADDR" >"$WORK/run.out" || rc=$?
    kill "$events_pid" 2>/dev/null || true
    wait "$events_pid" 2>/dev/null || true
    events_pid=
    stop_swarmd
    if ((rc == 0)); then
      read -r up down called returned <"$WORK/run.out"
      if bin/swarmd audit --data-root "$data" --json >"$WORK/audit.jsonl" &&
        profile_table=$(java -cp "$JAR" dev.swarmd.bench.StartProfile --audit "$WORK/audit.jsonl" \
          --events "$WORK/events.jsonl" --called "$called" --returned "$returned" --service b); then
        profile_table="Profile of one more swarmd run (not counted above; create → 50 running $up s): $profile_table"
        echo "$profile_table"
      else
        say "profile: reading the run's audit journal or engine events failed"
      fi
    else
      say "profile: the profiled swarmd run failed: see its error above"
    fi
  else
    stop_swarmd
    say "profile: ${FAILED[swarmd]}"
    unset 'FAILED[swarmd]'
  fi
fi

# spread "S1 S2 ...": "median (min–max)"; "n/a" for none.
spread() {
  [[ -n ${1// /} ]] || { echo n/a; return; }
  tr ' ' '\n' <<<"$1" | grep . | sort -g | awk '{ v[NR] = $1 } END {
    m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
    printf "%.2f (%.2f–%.2f)", m, v[1], v[NR] }'
}
# ratio "A..." "B...": median of A / median of B.
ratio() {
  local a b
  a=$(spread "${1:-}") b=$(spread "${2:-}")
  [[ $a != n/a && $b != n/a ]] && awk -v a="${a%% *}" -v b="${b%% *}" 'BEGIN { printf "%.2fx", a / b }' || echo n/a
}
engine_version=$(swarmd_engine version --format '{{.Server.Version}}')
table=$(
  echo "| $N run(s), seconds: median (min–max) | create → 50 running | scale 0 → none left |"
  echo "| --- | ---: | ---: |"
  echo "| (a) Docker swarm mode (dockerd $engine_version, $OFFLINE) | $(spread "${UP[docker]:-}") | $(spread "${DOWN[docker]:-}") |"
  echo "| (b) swarmd | $(spread "${UP[swarmd]:-}") | $(spread "${DOWN[swarmd]:-}") |"
  echo "| (c) floor: 50 plain containers via docker-java, 4 at a time | $(spread "${UP[floor]:-}") | $(spread "${DOWN[floor]:-}") |"
  echo "| swarmd / Docker (medians) | $(ratio "${UP[swarmd]:-}" "${UP[docker]:-}") | $(ratio "${DOWN[swarmd]:-}" "${DOWN[docker]:-}") |"
  echo "| swarmd / floor (medians) | $(ratio "${UP[swarmd]:-}" "${UP[floor]:-}") | $(ratio "${DOWN[swarmd]:-}" "${DOWN[floor]:-}") |"
  echo
  echo "Per run, in order (s, create / scale 0):"
  for part in $PARTS; do echo "- $part: up${UP[$part]:-} / down${DOWN[$part]:-}"; done
)
echo "$table"
for label in "${!FAILED[@]}"; do say "part $label gave no result: ${FAILED[$label]}"; done
((${#FAILED[@]} == 0)) || exit 1

if [[ ! -f BENCHMARKS.md ]]; then
  cat >BENCHMARKS.md <<'MD'
# Benchmarks

Appended by `bench/run.sh` (issue 2): service create/scale on Docker swarm mode vs swarmd vs plain containers, on the project machine (2 cores). The floor removes with `rm -f`; Docker's swarm stops tasks with SIGTERM and waits the 10 s default grace period before SIGKILL (`sleep` as PID 1 ignores SIGTERM), so its scale-to-0 includes about 10 s.
MD
fi
# shellcheck disable=SC2016
printf '\n## %s: `%s` at %s\n\nparts: %s, interleaved run by run; dockerd with %s, `service create --no-resolve-image`\n\n%s\n' \
  "$(date -u '+%Y-%m-%d %H:%M UTC')" "$COMMAND" "$COMMIT" "$PARTS" "$OFFLINE" "$table" >>BENCHMARKS.md
[[ -z $profile_table ]] || printf '\n%s\n' "$profile_table" >>BENCHMARKS.md
say "appended to BENCHMARKS.md"
