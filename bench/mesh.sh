#!/usr/bin/env bash
# Issue 5 benchmark: the routing mesh against going straight to the container.
# One swarmd on 127.0.0.81 runs one task (HAProxy answering 200 "ok" itself: a fast backend with
# keep-alive) published on 8200; wrk measures requests/s and p99 latency through the node's published
# port (the mesh) and straight to a twin container's address (same image and command, started with
# docker run: a connection-per-request load leaves some 100,000 conntrack entries in TIME_WAIT, and
# fresh connections to the same container from the same host address would meet them), for a keep-alive and a
# connection-per-request workload, N runs each (medians). A UDP echo task published on 8201/udp gives
# a round-trip rate through the mesh and direct (one client, one datagram in flight).
# Usage: bench/mesh.sh [N]   (default 3). Prints a markdown table.
# MESH_FORWARDING=userspace measures the user-space path (the node's --mesh-forwarding) instead of
# the kernel's; BENCH_DURATION sets the seconds of each run (default 10). MESH_CLIENT=netns runs the
# clients in a network namespace of their own, as a client from the network: the node advertises
# 10.254.77.1 (its end of a veth pair), the mesh is reached there and DNATed before routing, and the
# twin container through the host's forwarding, where on loopback every packet of the mesh is DNATed
# after routing and routed again.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

N=${1:-3}
DURATION=${BENCH_DURATION:-10}
ADDR=127.0.0.81
FORWARDING=${MESH_FORWARDING:-kernel}
CLIENT=${MESH_CLIENT:-host}
NS=swarmd-bench
MESH_ADDR=$ADDR
[[ $CLIENT == netns ]] && MESH_ADDR=10.254.77.1
# Runs a client command where the clients are: on the host, or in the namespace.
client() { if [[ $CLIENT == netns ]]; then ip netns exec "$NS" "$@"; else "$@"; fi; }
WORK=$(mktemp -d "$SWARMD_TMP/swarmd-mesh.XXXXXX")
PID=
say() { echo "== $*" >&2; }
sw() { "$SWARMD_DOCKER" -H "tcp://$ADDR:2375" "$@"; }

cleanup() {
  set +e
  [[ -z $PID ]] || kill -KILL -- "-$PID" 2>/dev/null
  ids="$(swarmd_engine ps -aq --filter "label=dev.swarmd.node.hostname=bench-mesh") $(swarmd_engine ps -aq \
    --filter label=dev.swarmd.bench=mesh)"
  # shellcheck disable=SC2086
  [[ -z ${ids// /} ]] || swarmd_engine rm -f $ids >/dev/null
  rm -rf "$WORK"
  swarmd_cleanup_host
  if [[ $CLIENT == netns ]]; then
    ip link del swb0 2>/dev/null
    ip netns del "$NS" 2>/dev/null
  fi
}
trap cleanup EXIT

swarmd_install_deps wrk haproxy
swarmd_ensure_dockerd
swarmd_build_test_images
[[ -f daemon/target/swarmd.jar ]] || mvn -B -ntp -q -DskipTests package

if [[ $CLIENT == netns ]]; then
  ip netns add "$NS"
  ip link add swb0 type veth peer name swb1
  ip link set swb1 netns "$NS"
  ip addr add "$MESH_ADDR/30" dev swb0
  ip link set swb0 up
  ip netns exec "$NS" ip addr add 10.254.77.2/30 dev swb1
  ip netns exec "$NS" ip link set swb1 up
  ip netns exec "$NS" ip link set lo up
  ip netns exec "$NS" ip route add default via "$MESH_ADDR"
fi

setsid bin/swarmd -H "tcp://$ADDR:2375" --data-root "$WORK/data" --hostname bench-mesh \
  --mesh-forwarding "$FORWARDING" >>"$WORK/swarmd.log" 2>&1 \
  </dev/null &
PID=$!
for ((i = 0; i < 120; i++)); do curl -sf "http://$ADDR:2375/_ping" >/dev/null && break; sleep 0.5; done
sw swarm init --advertise-addr "$MESH_ADDR" >/dev/null
cfg='global\n  maxconn 4000\ndefaults\n  mode http\n  timeout connect 5s\n  timeout client 30s\n  timeout server 30s\nfrontend fe\n  bind :80\n  http-request return status 200 content-type text/plain string ok\n'
http_cmd=(sh -c "printf '$cfg' > /tmp/h.cfg && exec haproxy -f /tmp/h.cfg")
sw service create -q --name meshbench -p 8200:80 swarmd-test/haproxy "${http_cmd[@]}" >/dev/null
sw service create -q --name udpbench -p 8201:80/udp swarmd-test/udp-echo >/dev/null
# From the namespace the twin is reached through the host's FORWARD chain, which the engine opens for
# published container ports only: the twin publishes its port on loopback (unused) for that.
twin_ip() {
  local id publish=()
  [[ $CLIENT == netns ]] && publish=(-p "127.0.0.1::80/$1")
  shift
  id=$(swarmd_engine run -d --label dev.swarmd.bench=mesh "${publish[@]}" "$@")
  swarmd_engine inspect --format '{{.NetworkSettings.IPAddress}}' "$id"
}
HTTP_IP=$(twin_ip tcp swarmd-test/haproxy "${http_cmd[@]}")
UDP_IP=$(twin_ip udp swarmd-test/udp-echo)
for ((i = 0; i < 100; i++)); do client curl -sf "http://$MESH_ADDR:8200/" >/dev/null && break; sleep 0.2; done
for ((i = 0; i < 100; i++)); do client curl -sf "http://$HTTP_IP:80/" >/dev/null && break; sleep 0.2; done

# wrk ARGS... -> "requests/s p99-ms"
run_wrk() {
  client wrk --latency "$@" | awk '
    /Requests\/sec/ {rps = $2}
    $1 == "99%" {v = $2; if (v ~ /us$/) {sub(/us/, "", v); v /= 1000} else if (v ~ /ms$/) {sub(/ms/, "", v)} else if (v ~ /s$/) {sub(/s/, "", v); v *= 1000}; p99 = v}
    END {printf "%s %s\n", rps, p99}'
}
median() { sort -g | awk '{a[NR] = $1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }

# UDP round trips per second for DURATION seconds, one datagram in flight.
udp_rate() {
  client python3 - "$1" "$2" "$DURATION" <<'PY'
import socket, sys, time
host, port, secs = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(1.0)
n, lost, end = 0, 0, time.time() + secs
while time.time() < end:
    s.sendto(b"x", (host, port))
    try:
        s.recvfrom(2048)
        n += 1
    except socket.timeout:
        lost += 1
print(n / secs)
PY
}

# Mesh and direct runs alternate, so that a slow spell of the machine weighs on both alike.
declare -A RPS P99 RPS_RUNS P99_RUNS
# keepalive and close load the machine (2 threads, 32 connections); single is one keep-alive
# connection, one request at a time: the latency the path itself adds, without queueing.
WORKLOADS=(keepalive close single)
for workload in "${WORKLOADS[@]}"; do
  args=(-t2 -c32 "-d${DURATION}s")
  [[ $workload == close ]] && args+=(-H 'Connection: close')
  [[ $workload == single ]] && args=(-t1 -c1 "-d${DURATION}s")
  for ((r = 1; r <= N; r++)); do
    for target in mesh direct; do
      url="http://$MESH_ADDR:8200/"
      [[ $target == direct ]] && url="http://$HTTP_IP:80/"
      read -r rps p99 < <(run_wrk "${args[@]}" "$url")
      say "$workload $target run $r: $rps req/s, p99 $p99 ms"
      RPS_RUNS[$workload.$target]+="$rps "
      P99_RUNS[$workload.$target]+="$p99 "
    done
  done
  for target in mesh direct; do
    RPS[$workload.$target]=$(printf '%s\n' ${RPS_RUNS[$workload.$target]} | median)
    P99[$workload.$target]=$(printf '%s\n' ${P99_RUNS[$workload.$target]} | median)
  done
done
udp_runs_mesh=() udp_runs_direct=()
for ((r = 1; r <= N; r++)); do
  udp_runs_mesh+=("$(udp_rate "$MESH_ADDR" 8201)")
  udp_runs_direct+=("$(udp_rate "$UDP_IP" 80)")
done
UDP_MESH=$(printf '%s\n' "${udp_runs_mesh[@]}" | median)
UDP_DIRECT=$(printf '%s\n' "${udp_runs_direct[@]}" | median)

echo
echo "| workload | mesh req/s | direct req/s | mesh/direct | mesh p99 ms | direct p99 ms | added p99 ms |"
echo "|---|---|---|---|---|---|---|"
for workload in "${WORKLOADS[@]}"; do
  awk -v w="$workload" -v mr="${RPS[$workload.mesh]}" -v dr="${RPS[$workload.direct]}" \
    -v mp="${P99[$workload.mesh]}" -v dp="${P99[$workload.direct]}" \
    'BEGIN {printf "| %s | %.0f | %.0f | %.2f | %.2f | %.2f | %.2f |\n", w, mr, dr, mr / dr, mp, dp, mp - dp}'
done
echo
awk -v m="$UDP_MESH" -v d="$UDP_DIRECT" \
  'BEGIN {printf "UDP round trips/s (one in flight): mesh %.0f, direct %.0f, mesh/direct %.2f\n", m, d, m / d}'
echo "(medians of $N runs of ${DURATION}s, mesh and direct alternating; wrk -t2 -c32, single: -t1 -c1; backend: HAProxy in the task"
echo " container; --mesh-forwarding $FORWARDING; clients: $CLIENT)"
