#!/usr/bin/env bash
# Builds containerd (containerd, containerd-shim-runc-v2, ctr) from the Go module proxy and
# caches them, for the local cluster's real node.
#
# Why not Debian's containerd 1.6: session pods set `supplementalGroupsPolicy: Strict` (only the
# groups the directory grants, never the image's /etc/group), and since Kubernetes 1.33 the
# kubelet rejects such pods unless the runtime supports the policy, which containerd does from 2.0.
#
# Contract: after a zero exit, "$PANALYSIS_CACHE/bin/containerd-$CONTAINERD_VERSION/" holds the
# three binaries, complete or absent (built into a temp dir, then renamed); a second run with a
# warm cache does nothing. CGO is off: the btrfs snapshotter (which needs cgo) is left out.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=versions.env
source "$here/versions.env"
CACHE="${PANALYSIS_CACHE:-$HOME/.cache/panalysis}"
BIN="$CACHE/bin"
dest="$BIN/containerd-$CONTAINERD_VERSION"
[ -x "$dest/containerd" ] && exit 0

die() { echo "panalysis: $*" >&2; exit 1; }
command -v go >/dev/null 2>&1 || die "the Go toolchain (go >= 1.25) is needed to build containerd for the real node; install it and run again"
export GOTOOLCHAIN=local GOFLAGS=-mod=mod CGO_ENABLED=0
mkdir -p "$BIN" "$CACHE/build/containerd-$CONTAINERD_VERSION"
work="$CACHE/build/containerd-$CONTAINERD_VERSION"
module=github.com/containerd/containerd/v2
printf 'module panalysis.invalid/containerd-bins\n\ngo 1.25.0\n\nrequire %s %s\n' "$module" "$CONTAINERD_VERSION" > "$work/go.mod"
out="$(mktemp -d "$BIN/.tmp.XXXXXX")"
start=$SECONDS
if ! (cd "$work" && go get "$module@$CONTAINERD_VERSION" >/dev/null &&
      go build -trimpath -ldflags "-s -w -X $module/version.Version=$CONTAINERD_VERSION" -o "$out/" \
        "$module/cmd/containerd" "$module/cmd/containerd-shim-runc-v2" "$module/cmd/ctr"); then
  rm -rf "$out"
  die "building containerd $CONTAINERD_VERSION failed (see the Go output above); check that the Go module proxy is reachable (GOPROXY=$(go env GOPROXY))"
fi
"$out/containerd" --version | grep -q "$CONTAINERD_VERSION" || { rm -rf "$out"; die "the containerd built does not report $CONTAINERD_VERSION"; }
chmod 755 "$out"; mv "$out" "$dest"
echo "panalysis: built containerd-$CONTAINERD_VERSION in $((SECONDS - start)) s" >&2
