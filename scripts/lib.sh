# shellcheck shell=bash
# Helpers sourced by scripts/test, scripts/up and bench/run.sh.
# Every engine call names the engine socket explicitly, so a DOCKER_HOST
# pointed at swarmd never redirects them.

SWARMD_ENGINE_HOST=${SWARMD_ENGINE_HOST:-unix:///var/run/docker.sock}
SWARMD_TMP=${TMPDIR:-/tmp}
SWARMD_DOCKERD_PIDFILE=${SWARMD_DOCKERD_PIDFILE:-$SWARMD_TMP/swarmd-dockerd.pid}
SWARMD_DOCKERD_LOG=${SWARMD_DOCKERD_LOG:-$SWARMD_TMP/swarmd-dockerd.log}
# Extra dockerd flags (word-split on purpose); empty for the normal engine.
SWARMD_DOCKERD_ARGS=${SWARMD_DOCKERD_ARGS:-}
# The machine image ships a newer CLI in /usr/local/bin; docker.io brings /usr/bin/docker.
if [[ -x /usr/local/bin/docker ]]; then SWARMD_DOCKER=/usr/local/bin/docker; else SWARMD_DOCKER=/usr/bin/docker; fi
# Bump when the image recipe below changes, so build_test_images rebuilds.
SWARMD_IMAGE_RECIPE=1

_swarmd_log() { echo "[swarmd] $*" >&2; }

# The engine (real dockerd), whatever DOCKER_HOST says.
swarmd_engine() { "$SWARMD_DOCKER" -H "$SWARMD_ENGINE_HOST" "$@"; }

# swarmd_install_deps [PKG...]: install the Debian packages that are missing
# (default: all the tests need), plus a JDK 17 and Maven if javac/mvn are absent.
swarmd_install_deps() {
  local pkgs=("$@") missing=() p
  ((${#pkgs[@]})) || pkgs=(docker.io busybox-static haproxy wrk)
  for p in "${pkgs[@]}"; do
    dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
  done
  command -v javac >/dev/null || missing+=(openjdk-17-jdk-headless)
  command -v mvn >/dev/null || missing+=(maven)
  command -v curl >/dev/null || missing+=(curl)
  ((${#missing[@]})) || return 0
  _swarmd_log "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  if [[ -z ${_SWARMD_APT_UPDATED:-} ]]; then
    apt-get update -q
    _SWARMD_APT_UPDATED=1
  fi
  apt-get install -y -q "${missing[@]}" </dev/null
}

_swarmd_engine_up() { swarmd_engine version >/dev/null 2>&1; }

# Start dockerd unless an engine already answers; remember that we started it.
swarmd_ensure_dockerd() {
  _swarmd_engine_up && return 0
  _swarmd_log "no Docker engine answers on $SWARMD_ENGINE_HOST; starting dockerd (log: $SWARMD_DOCKERD_LOG)"
  # setsid: its own session, so it outlives scripts/up and ignores the terminal.
  # shellcheck disable=SC2086
  setsid dockerd $SWARMD_DOCKERD_ARGS >"$SWARMD_DOCKERD_LOG" 2>&1 </dev/null &
  local pid=$! i
  echo "$pid" >"$SWARMD_DOCKERD_PIDFILE"
  for ((i = 0; i < 120; i++)); do
    if _swarmd_engine_up; then
      # Ours may have lost a race with another dockerd (e.g. one apt started): not ours then.
      kill -0 "$pid" 2>/dev/null || rm -f "$SWARMD_DOCKERD_PIDFILE"
      return 0
    fi
    sleep 0.5
  done
  _swarmd_log "dockerd did not answer within 60 s; last lines of $SWARMD_DOCKERD_LOG:"
  tail -n 20 "$SWARMD_DOCKERD_LOG" >&2 || true
  return 1
}

# Stop dockerd only if swarmd_ensure_dockerd started it. Never fails (used in traps).
swarmd_stop_dockerd_if_started() {
  [[ -f $SWARMD_DOCKERD_PIDFILE ]] || return 0
  local pid i
  pid=$(cat "$SWARMD_DOCKERD_PIDFILE")
  # Guard against a recycled pid: only signal a process that is dockerd.
  if [[ $(cat "/proc/$pid/comm" 2>/dev/null) == dockerd ]]; then
    _swarmd_log "stopping the dockerd we started (pid $pid)"
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 60; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$SWARMD_DOCKERD_PIDFILE"
  return 0
}

# Build swarmd-test/busybox from the host's static busybox (no registry here),
# and alias it to the image names the tests use where no such image exists.
swarmd_build_test_images() {
  local img=swarmd-test/busybox busybox=/bin/busybox stamp have t aliases
  aliases=(alpine:latest busybox:latest redis:3.0.6 redis:3.0.7 nginx:latest nginxdemos/hello:latest)
  stamp="$SWARMD_IMAGE_RECIPE-$(sha256sum "$busybox" | cut -c1-16)"
  have=$(swarmd_engine image inspect "$img" --format '{{index .Config.Labels "dev.swarmd.stamp"}}' 2>/dev/null || true)
  if [[ $have != "$stamp" ]]; then
    _swarmd_log "building $img from $busybox"
    local root
    root=$(mktemp -d "$SWARMD_TMP/swarmd-img.XXXXXX")
    mkdir -p "$root"/{bin,etc,tmp,root,usr,var} && chmod 1777 "$root/tmp"
    cp "$busybox" "$root/bin/busybox"
    for t in $("$busybox" --list); do
      [[ $t == busybox ]] || ln -s busybox "$root/bin/$t"
    done
    # Merged-/usr style links so /usr/bin/env, /sbin/... resolve too.
    ln -s bin "$root/sbin"; ln -s ../bin "$root/usr/bin"; ln -s ../bin "$root/usr/sbin"
    printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$root/etc/passwd"
    printf 'root:x:0:\nnogroup:x:65534:\nnobody:x:65534:\n' >"$root/etc/group"
    printf '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n' >"$root/etc/hosts"
    tar -C "$root" -c . | swarmd_engine import --change 'CMD ["sh"]' \
      --change "LABEL dev.swarmd.stamp=$stamp" - "$img:latest" >/dev/null
    rm -rf "$root"
  fi
  for t in "${aliases[@]}"; do
    # Re-point an alias only if it is missing or is one of ours (carries our label).
    if ! have=$(swarmd_engine image inspect "$t" --format '{{index .Config.Labels "dev.swarmd.stamp"}}' 2>/dev/null) \
      || [[ -n $have && $have != "$stamp" ]]; then
      swarmd_engine tag "$img:latest" "$t"
    fi
  done
}
