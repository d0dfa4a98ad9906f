#!/usr/bin/env bash
# Issue 3 benchmark: time from `kill -9` of a worker running 10 tasks until all 10 run on the other
# nodes, and the most tasks of the service seen running at once on live nodes (it must never pass 10).
# Three swarmd processes on 127.0.0.41-43 share this machine's engine; the killed worker's own
# containers keep running on that shared engine, so only containers of live nodes are counted.
# Usage: bench/failover.sh [N]   N kills (default 5). Prints a markdown table, appends it to BENCHMARKS.md.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

N=${1:-5}
DOCKER=$SWARMD_DOCKER
WORK=$(mktemp -d "$SWARMD_TMP/swarmd-failover.XXXXXX")
declare -A PID=()
NODES=(m w1 w2)
declare -A ADDR=([m]=127.0.0.41 [w1]=127.0.0.42 [w2]=127.0.0.43)

say() { echo "== $*" >&2; }
on() { local n=$1; shift; "$DOCKER" -H "tcp://${ADDR[$n]}:2375" "$@"; }
now() { date +%s.%N; }

start() {
  local n=$1
  setsid bin/swarmd -H "tcp://${ADDR[$n]}:2375" --data-root "$WORK/$n" --hostname "bench-$n" \
    >>"$WORK/$n.log" 2>&1 </dev/null &
  PID[$n]=$!
  disown "$!"
  for ((i = 0; i < 120; i++)); do curl -sf "http://${ADDR[$n]}:2375/_ping" >/dev/null && return; sleep 0.5; done
  say "swarmd $n did not start; see $WORK/$n.log"; exit 1
}

cleanup() {
  set +e
  for n in "${!PID[@]}"; do kill -KILL -- "-${PID[$n]}" 2>/dev/null; done
  for n in "${NODES[@]}"; do
    ids=$(swarmd_engine ps -aq --filter "label=dev.swarmd.node.hostname=bench-$n")
    # shellcheck disable=SC2086
    [[ -z $ids ]] || swarmd_engine rm -f $ids >/dev/null
  done
  rm -rf "$WORK"
}
trap cleanup EXIT

# Running containers of service f on the nodes still alive (all but w1).
live_running() {
  swarmd_engine ps -q --filter label=com.docker.swarm.service.name=f \
    --filter label=dev.swarmd.node.hostname=bench-m | wc -l | awk -v x="$(swarmd_engine ps -q \
    --filter label=com.docker.swarm.service.name=f --filter label=dev.swarmd.node.hostname=bench-w2 | wc -l)" \
    '{print $1 + x}'
}

wait_for() { # description, command...
  local what=$1; shift
  for ((i = 0; i < 600; i++)); do "$@" && return; sleep 0.2; done
  say "gave up waiting for $what"; exit 1
}

swarmd_ensure_dockerd
swarmd_build_test_images
[[ -f daemon/target/swarmd.jar ]] || mvn -B -ntp -q -DskipTests package
for n in "${NODES[@]}"; do start "$n"; done
on m swarm init --advertise-addr "${ADDR[m]}" >/dev/null
token=$(on m swarm join-token -q worker)
for n in w1 w2; do on "$n" swarm join --token "$token" "${ADDR[m]}:2377" >/dev/null; done
wait_for "three ready nodes" bash -c "[[ \$($DOCKER -H tcp://${ADDR[m]}:2375 node ls --format '{{.Status}}' | grep -c Ready) == 3 ]]"

TIMES=() MAXES=()
for ((run = 1; run <= N; run++)); do
  # All ten tasks on w1: the others are drained while the service is created.
  on m node update --availability drain bench-m >/dev/null
  on m node update --availability drain bench-w2 >/dev/null
  on m service create -d --replicas 10 --name f --stop-grace-period 1s swarmd-test/busybox sleep 3600 >/dev/null
  wait_for "10 tasks on w1" bash -c "[[ \$(docker -H unix:///var/run/docker.sock ps -q --filter label=com.docker.swarm.service.name=f --filter label=dev.swarmd.node.hostname=bench-w1 | wc -l) == 10 ]]"
  on m node update --availability active bench-m >/dev/null
  on m node update --availability active bench-w2 >/dev/null

  kill -KILL -- "-${PID[w1]}"
  t0=$(now) max=0
  while :; do
    c=$(live_running)
    ((c > max)) && max=$c
    ((c >= 10)) && break
    if (($(echo "$(now) - $t0 > 120" | bc))); then say "run $run: not all 10 moved within 120 s"; exit 1; fi
    sleep 0.1
  done
  t=$(echo "$(now) - $t0" | bc)
  sleep 2
  c=$(live_running); ((c > max)) && max=$c
  TIMES+=("$t") MAXES+=("$max")
  say "run $run: all 10 running elsewhere after ${t}s; at most $max at once"

  on m service rm f >/dev/null
  start w1
  wait_for "w1 back" bash -c "[[ \$($DOCKER -H tcp://${ADDR[m]}:2375 node ls --format '{{.Hostname}} {{.Status}}' | grep -c 'bench-w1 Ready') == 1 ]]"
  wait_for "service f gone" bash -c "[[ -z \$(docker -H unix:///var/run/docker.sock ps -aq --filter label=com.docker.swarm.service.name=f) ]]"
done

median=$(printf '%s\n' "${TIMES[@]}" | sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}')
maxmax=$(printf '%s\n' "${MAXES[@]}" | sort -g | tail -1)
table="$(cat <<EOT

## Worker failover ($(date -u +%Y-%m-%d), \`bench/failover.sh $N\`)

Three swarmd nodes on one machine; a worker running 10 tasks is killed with \`kill -9\`.

| runs | median s from kill to 10 running elsewhere | each run (s) | most running at once |
|---:|---:|---|---:|
| $N | $(printf '%.2f' "$median") | $(printf '%.2f ' "${TIMES[@]}") | $maxmax (of 10) |
EOT
)"
echo "$table"
echo "$table" >> BENCHMARKS.md
