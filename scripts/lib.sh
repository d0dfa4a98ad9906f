# shellcheck shell=bash
# Helpers sourced by scripts/test, scripts/up and bench/run.sh.
# Every engine call names the engine socket explicitly, so a DOCKER_HOST
# pointed at swarmd never redirects them.

SWARMD_ENGINE_HOST=${SWARMD_ENGINE_HOST:-unix:///var/run/docker.sock}
SWARMD_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SWARMD_TMP=${TMPDIR:-/tmp}
SWARMD_DOCKERD_PIDFILE=${SWARMD_DOCKERD_PIDFILE:-$SWARMD_TMP/swarmd-dockerd.pid}
SWARMD_DOCKERD_LOG=${SWARMD_DOCKERD_LOG:-$SWARMD_TMP/swarmd-dockerd.log}
# Extra dockerd flags (word-split on purpose); empty for the normal engine.
SWARMD_DOCKERD_ARGS=${SWARMD_DOCKERD_ARGS:-}
# Environment for a dockerd started here: NAME=VALUE words (word-split on purpose),
# e.g. DOCKER_SERVICE_PREFER_OFFLINE_IMAGE=1.
SWARMD_DOCKERD_ENV=${SWARMD_DOCKERD_ENV:-}
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
  ((${#pkgs[@]})) || pkgs=(docker.io busybox-static haproxy wrk gcc libc6-dev iproute2)
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

# Start dockerd (with SWARMD_DOCKERD_ENV and SWARMD_DOCKERD_ARGS) unless an engine
# already answers; remember that we started it.
swarmd_ensure_dockerd() {
  _swarmd_engine_up && return 0
  _swarmd_log "no Docker engine answers on $SWARMD_ENGINE_HOST; starting dockerd (log: $SWARMD_DOCKERD_LOG)"
  # setsid: its own session, so it outlives scripts/up and ignores the terminal.
  # env execs dockerd in place, so $! stays dockerd's pid.
  # shellcheck disable=SC2086
  setsid env $SWARMD_DOCKERD_ENV dockerd $SWARMD_DOCKERD_ARGS >"$SWARMD_DOCKERD_LOG" 2>&1 </dev/null &
  local pid=$! i
  echo "$pid" >"$SWARMD_DOCKERD_PIDFILE"
  # This shell started it: only this shell's traps stop it (the pidfile outlives us).
  _SWARMD_DOCKERD_STARTED_HERE=$pid
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

# swarmd_ensure_dockerd for a caller that stops a dockerd it started when done
# (swarmd_stop_dockerd_if_started): such an engine is the caller's own, and
# swarmd_build_test_images may take over the seed's image names on it.
# A dockerd started here keeps its images under a root of its own, and starts each time with
# new network state: when it also makes its default bridge, that bridge is a new user's, whose
# IPAM reports no gateway. SWARMD_FRESH_BRIDGE=1 tells the tests so, and the bridge goes with
# the dockerd.
SWARMD_DOCKERD_ROOT=${SWARMD_DOCKERD_ROOT:-/var/lib/swarmd-test-docker}
swarmd_ensure_throwaway_dockerd() {
  local had_bridge=1
  if ! _swarmd_engine_up; then
    ip link show docker0 >/dev/null 2>&1 || had_bridge=0
    if [[ " $SWARMD_DOCKERD_ARGS " != *" --data-root"* ]]; then
      # New network state forgets the sandboxes that a dockerd stopped or killed with containers
      # running left under its exec root; they would keep their addresses on the bridge while the
      # new dockerd hands the same ones out again. No dockerd runs here: none of them is live.
      _swarmd_remove_stale_sandboxes
      rm -rf "$SWARMD_DOCKERD_ROOT/network"
      SWARMD_DOCKERD_ARGS="--data-root $SWARMD_DOCKERD_ROOT $SWARMD_DOCKERD_ARGS"
    fi
  fi
  swarmd_ensure_dockerd || return 1
  _SWARMD_DOCKERD_THROWAWAY=1
  if ((!had_bridge)) && _swarmd_dockerd_started_here; then
    export SWARMD_FRESH_BRIDGE=1
  fi
}

# Unmounts dockerd's sandbox namespaces (their veths go with them); only while no dockerd runs.
_swarmd_remove_stale_sandboxes() {
  local ns
  for ns in /run/docker/netns/*; do
    [[ -e $ns ]] || continue
    _swarmd_log "removing the stale docker sandbox $ns"
    umount "$ns" 2>/dev/null || true
    rm -f "$ns" 2>/dev/null || true
  done
}

# Whether the engine is a dockerd that swarmd_ensure_dockerd started in this shell
# (a dockerd that an earlier run left behind is not ours).
_swarmd_dockerd_started_here() {
  [[ -n ${_SWARMD_DOCKERD_STARTED_HERE:-} && -f $SWARMD_DOCKERD_PIDFILE \
    && $(cat "$SWARMD_DOCKERD_PIDFILE") == "$_SWARMD_DOCKERD_STARTED_HERE" ]]
}

# Whether the engine is a throwaway one started here: its images are the tests' own.
_swarmd_engine_throwaway() {
  [[ -n ${_SWARMD_DOCKERD_THROWAWAY:-} ]] && _swarmd_dockerd_started_here
}

# Stop dockerd only if swarmd_ensure_dockerd started it in this shell. Never fails (used in traps).
swarmd_stop_dockerd_if_started() {
  _swarmd_dockerd_started_here || return 0
  local pid=$_SWARMD_DOCKERD_STARTED_HERE i
  # Guard against a recycled pid: only signal a process that is dockerd.
  if [[ $(cat "/proc/$pid/comm" 2>/dev/null) == dockerd ]]; then
    _swarmd_log "stopping the dockerd we started (pid $pid)"
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 60; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    kill -KILL "$pid" 2>/dev/null || true
  fi
  [[ ${SWARMD_FRESH_BRIDGE:-} != 1 ]] || ip link del docker0 2>/dev/null || true
  rm -f "$SWARMD_DOCKERD_PIDFILE"
  return 0
}

# The pid of the dockerd listening on the engine's unix socket; fails for another
# kind of engine address, or without ss (iproute2).
swarmd_dockerd_pid() {
  local sock=${SWARMD_ENGINE_HOST#unix://} path pid
  [[ $sock != "$SWARMD_ENGINE_HOST" ]] && command -v ss >/dev/null || return 1
  sock=$(realpath -m "$sock")
  while read -r path pid; do
    [[ $(realpath -m "$path") == "$sock" ]] && { echo "$pid"; return 0; }
  done < <(ss -xlpn | awk '/"dockerd",pid=/ { match($0, /"dockerd",pid=[0-9]+/); print $5, substr($0, RSTART + 14, RLENGTH - 14) }')
  return 1
}

# swarmd_dockerd_has_env NAME=VALUE: whether the engine's dockerd runs with exactly
# that variable; 2 when its process cannot be found.
swarmd_dockerd_has_env() {
  local pid
  pid=$(swarmd_dockerd_pid) || return 2
  tr '\0' '\n' <"/proc/$pid/environ" | grep -qxF -- "$1"
}

# Remove what swarmd nodes that are gone (killed with -9, say) left on the host: their nat
# chains and hooks, loopback guards and route_localnet (`swarmd cleanup`; rules of nodes
# still running stay). Nothing to do before swarmd was ever built. Never fails.
swarmd_cleanup_host() {
  [[ -f $SWARMD_ROOT/daemon/target/swarmd.jar ]] || return 0
  "$SWARMD_ROOT/bin/swarmd" cleanup >&2 || true
}

# Build swarmd-test/busybox from the host's static busybox (no registry here),
# alias it to the plain image names the tests use where no such image exists,
# and build the server-like images (redis, nginx, a broken one) from it.
swarmd_build_test_images() {
  local img=swarmd-test/busybox busybox=/bin/busybox stamp have t label aliases
  aliases=(alpine:latest busybox:latest)
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
    # Re-point an alias that is missing or one of ours (carries our label).
    if have=$(swarmd_engine image inspect "$t" --format '{{index .Config.Labels "dev.swarmd.stamp"}}' 2>/dev/null); then
      [[ $have == "<no value>" ]] && have=
      [[ $have != "$stamp" ]] || continue
      [[ -n $have ]] || _swarmd_take_foreign "$t" || continue
    fi
    swarmd_engine tag "$img:latest" "$t"
  done

  # Server-like images. Their main process is PID 1 in the container, where a
  # signal without a handler is ignored: each one traps TERM and exits 0, so
  # `docker stop` (and a rolling update's stop) ends them at once.
  local forever="trap 'exit 0' TERM; while true; do sleep 1 & wait \$!; done"
  # /hostname tells the replicas apart (the container's hostname is its short ID).
  local httpd="trap 'exit 0' TERM; hostname > /www/hostname; httpd -f -p 80 -h /www & wait \$!"
  local www="FROM $img:latest
COPY index.html /www/index.html"
  _swarmd_build_derived redis:3.0.6 "FROM $img:latest
LABEL dev.swarmd.test.image=redis dev.swarmd.test.version=3.0.6
CMD [\"sh\", \"-c\", \"$forever\"]"
  _swarmd_build_derived redis:3.0.7 "FROM $img:latest
LABEL dev.swarmd.test.image=redis dev.swarmd.test.version=3.0.7
CMD [\"sh\", \"-c\", \"$forever\"]"
  # The web server under the seed's names, and under a name of ours for tests that
  # need a web server but not the seed's commands.
  for t in nginx:latest nginxdemos/hello:latest swarmd-test/web:latest; do
    label=${t%:latest}
    _swarmd_build_derived "$t" "$www
LABEL dev.swarmd.test.image=${label#swarmd-test/}
EXPOSE 80
CMD [\"sh\", \"-c\", \"$httpd\"]"
  done
  # For failing updates: the task starts, then exits 1 after about a second.
  _swarmd_build_derived swarmd-test/broken:latest "FROM $img:latest
LABEL dev.swarmd.test.image=broken
CMD [\"sh\", \"-c\", \"sleep 1; exit 1\"]"
  # Health checks: healthy HEALTHY_AFTER seconds after it starts, when /tmp/healthy appears.
  _swarmd_build_derived swarmd-test/health:latest "FROM $img:latest
LABEL dev.swarmd.test.image=health
ENV HEALTHY_AFTER=2
HEALTHCHECK --interval=1s --timeout=2s --start-period=60s --retries=2 CMD test -f /tmp/healthy
CMD [\"sh\", \"-c\", \"trap 'exit 0' TERM; sleep \$HEALTHY_AFTER; touch /tmp/healthy; $forever\"]"
  # UDP through the routing mesh: busybox-static has no UDP server, so a static one of ours.
  local bin=$SWARMD_TMP/swarmd-images
  mkdir -p "$bin"
  gcc -static -O2 -o "$bin/udp-echo" "$SWARMD_ROOT/scripts/images/udp-echo.c"
  _swarmd_build_derived swarmd-test/udp-echo:latest "FROM $img:latest
LABEL dev.swarmd.test.image=udp-echo
COPY udp-echo /bin/udp-echo
CMD [\"/bin/udp-echo\", \"80\"]" "$bin/udp-echo"
  # The seed's dns-cache (a global service publishing UDP 53 in host mode): it
  # answers each datagram on port 53 with its container's hostname.
  _swarmd_build_derived dns-cache:latest "FROM $img:latest
LABEL dev.swarmd.test.image=dns-cache
COPY udp-echo /bin/udp-echo
CMD [\"/bin/udp-echo\", \"53\"]" "$bin/udp-echo"
  # A backend that speaks the PROXY protocol: the host's haproxy with the libraries it links.
  _swarmd_root_of /usr/sbin/haproxy "$bin/haproxy-root.tar"
  _swarmd_build_derived swarmd-test/haproxy:latest "FROM $img:latest
LABEL dev.swarmd.test.image=haproxy
ADD haproxy-root.tar /
CMD [\"haproxy\", \"-v\"]" "$bin/haproxy-root.tar"
}

# _swarmd_root_of BINARY TAR: a tar of BINARY and the shared libraries it loads,
# at their paths, made reproducible (same content, same bytes) for the recipe hash.
_swarmd_root_of() {
  local binary=$1 tar=$2 root libs
  root=$(mktemp -d "$SWARMD_TMP/swarmd-root.XXXXXX")
  libs=$(ldd "$binary" | grep -o '/[^ ]*' | sort -u)
  # shellcheck disable=SC2086 # one path a word
  cp --parents -L "$binary" $libs "$root/"
  tar -C "$root" --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -cf "$tar" .
  rm -rf "$root"
}

# _swarmd_take_foreign NAME: whether an image under NAME that is not ours may be
# replaced by ours: only on a throwaway engine, where the tests' expectations of
# the seed's names (nginx, dns-cache, alpine, ...) must hold. Elsewhere it is the
# user's image: left alone, and the tests that need ours there skip. The replaced
# image stays, untagged.
_swarmd_take_foreign() {
  if _swarmd_engine_throwaway; then
    _swarmd_log "$1 exists and is not one of ours: replaced by ours (a throwaway engine; the old image stays, untagged)"
  else
    _swarmd_log "$1 exists and is not one of ours: left alone"
    return 1
  fi
}

# _swarmd_build_derived NAME DOCKERFILE: build NAME from DOCKERFILE (FROM the local
# swarmd-test/busybox; the build context holds index.html and the FILEs given)
# unless NAME already is that build. The recipe label is a hash of the base image
# ID, the Dockerfile and the FILEs, so any change to them rebuilds; the base's dev.swarmd.stamp label is inherited
# (older copies of this file, which re-point only images whose stamp differs from
# theirs, leave these alone). A NAME that exists without our stamp label is not
# ours (a real image): see _swarmd_take_foreign.
_swarmd_build_derived() {
  local name=$1 dockerfile=$2 base recipe info old have_stamp have_recipe ctx
  local files=("${@:3}")
  base=$(swarmd_engine image inspect swarmd-test/busybox:latest --format '{{.Id}}')
  recipe=$( (printf '%s\n%s\n' "$base" "$dockerfile"; ((${#files[@]} == 0)) || cat "${files[@]}") \
    | sha256sum | cut -c1-16)
  if info=$(swarmd_engine image inspect "$name" \
    --format '{{.Id}}|{{with .Config.Labels}}{{index . "dev.swarmd.stamp"}}|{{index . "dev.swarmd.recipe"}}{{end}}' 2>/dev/null); then
    IFS='|' read -r old have_stamp have_recipe <<<"$info"
    # (a missing key prints as "<no value>"; no labels at all print nothing)
    [[ $have_stamp == "<no value>" ]] && have_stamp=
    if [[ -z $have_stamp ]]; then
      _swarmd_take_foreign "$name" || return 0
      old= # not ours to remove
    elif [[ $have_recipe == "$recipe" ]]; then
      return 0
    fi
  else
    old=
  fi
  _swarmd_log "building $name"
  ctx=$(mktemp -d "$SWARMD_TMP/swarmd-build.XXXXXX")
  printf '%s\nLABEL dev.swarmd.recipe=%s\n' "$dockerfile" "$recipe" >"$ctx/Dockerfile"
  ((${#files[@]} == 0)) || cp "${files[@]}" "$ctx/"
  printf '<!DOCTYPE html>\n<html><head><title>swarmd-test</title></head>\n<body><h1>Hello from swarmd-test</h1><p>busybox httpd standing in for nginx.</p></body></html>\n' \
    >"$ctx/index.html"
  # The legacy builder (the engine is Debian's docker.io 20.10) never pulls a
  # base image that is present, and --pull=false says so explicitly.
  if ! DOCKER_BUILDKIT=0 swarmd_engine build -q --pull=false -t "$name" "$ctx" >/dev/null 2>"$ctx/err"; then
    _swarmd_log "building $name failed:"
    cat "$ctx/err" >&2
    rm -rf "$ctx"
    return 1
  fi
  rm -rf "$ctx"
  # The image the name pointed at before: removed once no tag names it (rmi
  # without -f also refuses one that a container still uses).
  if [[ -n $old && $(swarmd_engine image inspect "$old" --format '{{len .RepoTags}}' 2>/dev/null) == 0 ]]; then
    swarmd_engine image rm "$old" >/dev/null 2>&1 || true
  fi
}
