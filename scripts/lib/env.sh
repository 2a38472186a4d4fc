# Shared by the scripts in scripts/: where the environment lives and how to run a command in it.
# Source it; do not run it.
#
# Home Assistant 2026.10 needs Python >= 3.14.2. Where the machine has one, the environment is a
# plain virtualenv. Where it has none (Debian 12 ships 3.11), scripts/setup builds a minimal Debian
# sid root that holds python3.14 and every command runs inside it through chroot, in a private
# mount namespace so nothing stays mounted after the command ends.

EV_FLEX_REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
EV_FLEX_WORKSPACE="$(dirname "$EV_FLEX_REPO")"
EV_FLEX_CACHE="${EV_FLEX_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ev-flex}"
EV_FLEX_ROOTFS="$EV_FLEX_CACHE/sid-root"
EV_FLEX_MIN_PYTHON="3.14.2"

# Prints the path of a host Python >= EV_FLEX_MIN_PYTHON, or nothing.
ev_flex_host_python() {
    local candidate
    for candidate in "${EV_FLEX_PYTHON:-}" python3.14 python3.15 python3; do
        [ -n "$candidate" ] || continue
        command -v "$candidate" >/dev/null 2>&1 || continue
        if "$candidate" -c "import sys; sys.exit(0 if sys.version_info >= (3, 14, 2) else 1)" 2>/dev/null; then
            command -v "$candidate"
            return 0
        fi
    done
    return 0
}

# The mode is "host" when a suitable Python exists on the machine, otherwise "chroot".
ev_flex_mode() {
    if [ -n "$(ev_flex_host_python)" ]; then echo host; else echo chroot; fi
}

# The virtualenv path as seen by the Python that owns it.
ev_flex_venv_path() {
    if [ "$(ev_flex_mode)" = host ]; then
        echo "$EV_FLEX_CACHE/venv-host"
    else
        echo "/opt/ev-flex-venv"
    fi
}

# Runs a command with the environment's bin/ first on PATH, from the repository root.
ev_flex_run() {
    local venv
    venv="$(ev_flex_venv_path)"
    if [ "$(ev_flex_mode)" = host ]; then
        (cd "$EV_FLEX_REPO" && PATH="$venv/bin:$PATH" VIRTUAL_ENV="$venv" "$@")
        return
    fi
    local quoted
    quoted="$(printf '%q ' "$@")"
    unshare --mount --propagation private -- bash -c '
        set -e
        root="$1"; workspace="$2"; repo="$3"; venv="$4"; command="$5"
        mkdir -p "$root$workspace" "$root/proc" "$root/dev" "$root/tmp"
        mount --bind "$workspace" "$root$workspace"
        # shared/ beside the repository may be a link to somewhere outside the workspace.
        shared="$(realpath -q "$workspace/shared" || true)"
        if [ -n "$shared" ] && [ -d "$shared" ] && [ "${shared#"$workspace"/}" = "$shared" ]; then
            mkdir -p "$root$shared"
            mount --bind "$shared" "$root$shared"
        fi
        mount -t proc proc "$root/proc"
        mount --rbind /dev "$root/dev"
        cp -L /etc/resolv.conf "$root/etc/resolv.conf" 2>/dev/null || true
        # The machine may reach package registries through a proxy that its own CA bundle trusts.
        host_ca=/etc/ssl/certs/ca-certificates.crt
        if [ -f "$host_ca" ]; then
            mkdir -p "$root/etc/ssl/certs"
            touch "$root$host_ca"
            mount --bind "$host_ca" "$root$host_ca"
        fi
        exec chroot "$root" /usr/bin/env -i \
            HOME=/root TERM="${TERM:-dumb}" LANG=C.UTF-8 CI="${CI:-}" \
            PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_DEFAULT_TIMEOUT=180 \
            SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt \
            PIP_CERT=/etc/ssl/certs/ca-certificates.crt \
            VIRTUAL_ENV="$venv" PATH="$venv/bin:/usr/local/bin:/usr/bin:/bin" \
            EV_FLEX_IN_CHROOT=1 \
            bash -c "cd \"$repo\" && $command"
    ' ev-flex-chroot "$EV_FLEX_ROOTFS" "$EV_FLEX_WORKSPACE" "$EV_FLEX_REPO" "$venv" "$quoted"
}
