#!/usr/bin/env bash
# Fault history: FaultHistoryTest (it-tests) with ROUNDS rounds of faults on three managers (127.0.0.85-87), in turn
# kill -9 of the leader, kill -9 of a follower, SIGSTOP of the leader for 15 s, the leader cut off by iptables for
# 10 s, while four clients send versioned service updates; then the recorded history is checked against every
# manager's journal. Prints the test's summary (one line per round, the checker's counts, the journals' heads),
# for BENCHMARKS.md.
# Usage: ROUNDS=100 bench/fault-history.sh     (default 100 rounds; SEED=... to replay other choices)
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

ROUNDS=${ROUNDS:-100}
SEED=${SEED:-20261207}
SUMMARY=it-tests/target/it-logs/fault-history-summary.txt
# The test fork's bound: generous rounds of about a minute each, and the start and the journals' checks.
FORK_TIMEOUT=$((ROUNDS * 150 + 1800))

say() { echo "== $*" >&2; }

# As scripts/test: what killed daemons leave on the host is removed, a dockerd started here is stopped.
trap 'swarmd_cleanup_host; swarmd_stop_dockerd_if_started' EXIT
swarmd_install_deps docker.io busybox-static iproute2 iptables
swarmd_ensure_throwaway_dockerd
swarmd_build_test_images

say "building"
mvn -B -ntp -q -DskipTests install
rm -f "$SUMMARY"
say "FaultHistoryTest: $ROUNDS rounds, seed $SEED (fork bound ${FORK_TIMEOUT} s)"
rc=0
mvn -B -ntp verify -pl it-tests -Dit.standalone -Dtest=FaultHistoryTest \
  -Dswarmd.faultRounds="$ROUNDS" -Dswarmd.faultSeed="$SEED" -Dit.forkTimeout="$FORK_TIMEOUT" || rc=$?

echo
echo "### Fault history: $ROUNDS rounds ($(date -u +%Y-%m-%d), $(nproc) cores, commit $(git rev-parse --short HEAD))"
echo
if ((rc)); then
  result="FAILED (mvn exit $rc)"
elif grep -q '^history checked' "$SUMMARY" 2>/dev/null; then
  result=passed
else
  result="not run to the end (skipped? see it-tests/target/surefire-reports)"
fi
echo "Command: \`ROUNDS=$ROUNDS bench/fault-history.sh\`. Result: $result."
echo
if [[ -s $SUMMARY ]]; then
  echo '```'
  cat "$SUMMARY"
  echo '```'
else
  say "no summary at $SUMMARY; see it-tests/target/surefire-reports and it-tests/target/it-logs"
fi
exit "$rc"
