# shellcheck shell=bash disable=SC2154
# Sourced by scripts/check-shim-freebsd and scripts/build-freebsd: the two
# upstream cfg fixes shim/README.md describes ("FreeBSD"), applied to copies of
# the registry sources of ttrpc and containerd-shim, and a copy of the
# workspace to build the shim in (the [patch] rewrites Cargo.lock). The
# repository and the registry stay untouched; nothing from upstream is committed.
# Needs `root` (the repository) set by the sourcing script (hence SC2154).

# The registry source directory of crate $1, as this workspace resolves it
# for target $2.
shim_freebsd_source_dir() {
    cargo metadata --manifest-path "$root/Cargo.toml" --format-version 1 --filter-platform "$2" \
        | grep -o "\"manifest_path\":\"[^\"]*/$1-[0-9][^/\"]*/Cargo.toml\"" | head -n1 \
        | sed 's/^"manifest_path":"\(.*\)\/Cargo.toml"$/\1/'
}

# shim_freebsd_patch_cfg FILE FROM TO: replaces every FROM by TO in FILE,
# failing if there is none. FILE keeps its modification time: the fix is the
# same every time, so a build directory reused across runs stays fresh.
shim_freebsd_patch_cfg() {
    grep -qF -- "$2" "$1" || { echo "$(basename "$0"): no '$2' in $1: upstream changed" >&2; exit 1; }
    local escaped_from escaped_to mtime
    mtime=$(stat -c %Y "$1")
    escaped_from=$(printf '%s' "$2" | sed 's/[][\.*^$/]/\\&/g')
    escaped_to=$(printf '%s' "$3" | sed 's/[\&/]/\\&/g')
    sed -i "s/$escaped_from/$escaped_to/" "$1"
    touch -d "@$mtime" "$1"
}

# shim_freebsd_patched_sources DIR TARGET: DIR/ttrpc and DIR/containerd-shim,
# the fixed copies (DIR must exist; earlier copies there are replaced).
shim_freebsd_patched_sources() {
    local dir=$1 target=$2 crate src
    local macos='#[cfg(target_os = "macos")]'
    local macos_or_freebsd='#[cfg(any(target_os = "macos", target_os = "freebsd"))]'
    for crate in ttrpc containerd-shim; do
        src=$(shim_freebsd_source_dir "$crate" "$target")
        [[ -d $src ]] || { echo "$(basename "$0"): no sources for $crate (cargo fetch)" >&2; exit 1; }
        rm -rf "${dir:?}/$crate"
        cp -r --preserve=timestamps "$src" "$dir/$crate"
    done
    # 1. ttrpc: FreeBSD takes the macOS way to close-on-exec descriptors.
    shim_freebsd_patch_cfg "$dir/ttrpc/src/sync/sys/unix/net.rs" "$macos" "$macos_or_freebsd"
    shim_freebsd_patch_cfg "$dir/ttrpc/src/common.rs" "$macos" "$macos_or_freebsd"
    # 2. containerd-shim: FreeBSD gets macOS's SOCKET_ROOT, /var/run/containerd
    #    (the only macOS-only item there).
    shim_freebsd_patch_cfg "$dir/containerd-shim/src/lib.rs" "$macos" "$macos_or_freebsd"
}

# shim_freebsd_config DIR: the cargo arguments that use the copies in DIR, in
# the array shim_freebsd_config_args.
shim_freebsd_config() {
    # shellcheck disable=SC2034 # used by the sourcing script
    shim_freebsd_config_args=(
        --config "patch.crates-io.ttrpc.path=\"$1/ttrpc\""
        --config "patch.crates-io.containerd-shim.path=\"$1/containerd-shim\""
    )
}

# shim_freebsd_workspace_copy DIR: a copy of the workspace in DIR (replaced
# if it exists), without build outputs or git metadata; files keep their
# modification times.
shim_freebsd_workspace_copy() {
    rm -rf "${1:?}"
    mkdir -p "$1"
    tar -C "$root" --exclude=./target --exclude=./fuzz/target --exclude=./.git -cf - . | tar -C "$1" -xf -
}
