#!/usr/bin/env bash
# Issue 2 benchmark: how long `docker service create -d --replicas 50` takes until 50
# containers run on the engine, and `docker service scale -d b=0` until none is left, on
#   (a) docker: Docker's own swarm mode on the real dockerd,
#   (b) swarmd: a swarmd started here on tcp://127.0.0.1:23750,
#   (c) floor:  50 plain containers created/started/removed straight through docker-java.
# Prints a markdown table of medians and appends it to BENCHMARKS.md when every part ran.
# Usage: bench/run.sh [N]        N runs per part (default 5)
#   BENCH_PARTS="docker swarmd floor"   parts to run (default all three)
# (a) and (b) run one after the other: both swarms want ports 2377/7946.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

N=${1:-5}
PARTS=${BENCH_PARTS:-docker swarmd floor}
COMMAND="${BENCH_PARTS:+BENCH_PARTS=\"$BENCH_PARTS\" }bench/run.sh${*:+ $*}"
SWARMD_ADDR=127.0.0.1:23750
JAR=bench/target/swarmd-bench.jar
WORK=$(mktemp -d "$SWARMD_TMP/swarmd-bench.XXXXXX")
DOCKER=$SWARMD_DOCKER
engine_swarm=0 swarmd_pid='' had_gwbridge=1
declare -A UP=() DOWN=() FAILED=()

say() { echo "== $*" >&2; }

# Everything this script made goes, whatever happened: service, swarm, swarmd, containers, dirs.
cleanup() {
  set +e
  if [[ -n $swarmd_pid ]]; then
    timeout 30 "$DOCKER" -H "tcp://$SWARMD_ADDR" service rm b >/dev/null 2>&1
    kill -TERM -- "-$swarmd_pid" 2>/dev/null
    for ((i = 0; i < 60; i++)); do kill -0 "$swarmd_pid" 2>/dev/null || break; sleep 0.5; done
    kill -KILL -- "-$swarmd_pid" 2>/dev/null
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

swarmd_ensure_dockerd
swarmd_build_test_images
if [[ ! -f $JAR || -n $(find bench/pom.xml bench/src -newer "$JAR" 2>/dev/null) ]]; then
  say "building $JAR"
  mvn -B -ntp -q -f bench/pom.xml -DskipTests package
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

# bench PART LABEL [ARGS...]: runs the Java part, records medians or the failure.
bench() {
  local part=$1 label=$2 out up down
  shift 2
  say "$label: $N run(s)"
  if out=$(java -jar "$JAR" "$part" --engine "$SWARMD_ENGINE_HOST" --docker "$DOCKER" --runs "$N" "$@"); then
    read -r _ _ up down <<<"$(grep '^RESULT ' <<<"$out" | tail -n 1)"
    UP[$label]=$up DOWN[$label]=$down
  else
    FAILED[$label]="it failed: see its error above"
  fi
}

start_swarmd() {
  if [[ ! -f daemon/target/swarmd.jar ]]; then
    say "daemon/target/swarmd.jar is missing; building swarmd (log: $WORK/build.log)"
    if ! mvn -B -ntp -DskipTests package >"$WORK/build.log" 2>&1; then
      grep -E 'ERROR' "$WORK/build.log" | head -n 5 >&2
      FAILED[swarmd]="swarmd is not built: daemon/target/swarmd.jar missing and 'mvn -DskipTests package' failed"
      return 1
    fi
  fi
  mkdir -p "$WORK/swarmd-data"
  setsid bin/swarmd -H "tcp://$SWARMD_ADDR" --data-root "$WORK/swarmd-data" --hostname bench \
    --engine "$SWARMD_ENGINE_HOST" >"$WORK/swarmd.log" 2>&1 </dev/null &
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
  kill -TERM -- "-$swarmd_pid" 2>/dev/null || true
  for ((i = 0; i < 60; i++)); do kill -0 "$swarmd_pid" 2>/dev/null || break; sleep 0.5; done
  kill -KILL -- "-$swarmd_pid" 2>/dev/null || true
  swarmd_pid=
}

for part in $PARTS; do
  case $part in
    docker)
      timeout 60 "$DOCKER" -H "$SWARMD_ENGINE_HOST" swarm init --advertise-addr 127.0.0.1 >/dev/null
      engine_swarm=1
      node=$(swarmd_engine info --format '{{.Swarm.NodeID}}')
      bench service docker --swarm-host "$SWARMD_ENGINE_HOST"
      # The engine may be shared: say so if someone else left or re-made our swarm meanwhile.
      [[ $(swarmd_engine info --format '{{.Swarm.NodeID}}') == "$node" ]] ||
        FAILED[docker]="the engine's swarm was changed by someone else during the run"
      timeout 60 "$DOCKER" -H "$SWARMD_ENGINE_HOST" swarm leave --force >/dev/null 2>&1 || true
      engine_swarm=0
      ;;
    swarmd)
      start_swarmd && bench service swarmd --swarm-host "tcp://$SWARMD_ADDR"
      [[ -z $swarmd_pid ]] || stop_swarmd
      ;;
    floor) bench floor floor ;;
    *) say "unknown part '$part' (want docker, swarmd, floor)"; exit 2 ;;
  esac
done

# Markdown table; "n/a" where a part did not run or failed.
val() { local v=${1:-}; [[ -n $v ]] && echo "$v" || echo n/a; }
ratio() { [[ -n ${1:-} && -n ${2:-} ]] && awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2fx", a / b }' || echo n/a; }
engine_version=$(swarmd_engine version --format '{{.Server.Version}}')
table=$(
  echo "| $N run(s), median seconds | create → 50 running | scale 0 → none left |"
  echo "| --- | ---: | ---: |"
  echo "| (a) Docker swarm mode (dockerd $engine_version) | $(val "${UP[docker]:-}") | $(val "${DOWN[docker]:-}") |"
  echo "| (b) swarmd | $(val "${UP[swarmd]:-}") | $(val "${DOWN[swarmd]:-}") |"
  echo "| (c) floor: 50 plain containers via docker-java, 4 at a time | $(val "${UP[floor]:-}") | $(val "${DOWN[floor]:-}") |"
  echo "| swarmd / Docker | $(ratio "${UP[swarmd]:-}" "${UP[docker]:-}") | $(ratio "${DOWN[swarmd]:-}" "${DOWN[docker]:-}") |"
  echo "| swarmd / floor | $(ratio "${UP[swarmd]:-}" "${UP[floor]:-}") | $(ratio "${DOWN[swarmd]:-}" "${DOWN[floor]:-}") |"
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
printf '\n## %s: `%s`\n\nparts: %s\n\n%s\n' "$(date -u '+%Y-%m-%d %H:%M UTC')" "$COMMAND" "$PARTS" "$table" >>BENCHMARKS.md
say "appended to BENCHMARKS.md"
