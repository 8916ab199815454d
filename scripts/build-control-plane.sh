#!/usr/bin/env bash
# Builds the local control plane binaries from the Go module proxy and caches them.
#
# Contract: after a zero exit, "$PANALYSIS_CACHE/bin/<component>-<version>/" holds
#   kube-apiserver kube-controller-manager kube-scheduler kubectl   (k8s-$K8S_VERSION)
#   etcd (etcd-$ETCD_VERSION), kwok (kwok-$KWOK_VERSION), helm (helm-$HELM_VERSION)
# and, with PANALYSIS_REAL_NODE=1, the real node's kubelet (kubelet-$K8S_VERSION) and containerd
# (containerd-$CONTAINERD_VERSION, scripts/build-containerd.sh).
# Each directory is complete or absent (built into a temp dir, then renamed), so a
# second run with a warm cache does nothing. Versions come from scripts/versions.env.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=versions.env
source "$here/versions.env"
CACHE="${PANALYSIS_CACHE:-$HOME/.cache/panalysis}"
BIN="$CACHE/bin"
mkdir -p "$BIN" "$CACHE/build"

die() { echo "panalysis: $*" >&2; exit 1; }
log() { echo "panalysis: $*" >&2; }

command -v go >/dev/null 2>&1 || die "the Go toolchain (go >= 1.25) is needed to build the local control plane; install it (e.g. 'apt-get install golang' or from go.dev) and run again"
export GOTOOLCHAIN=local GOFLAGS=-mod=mod CGO_ENABLED=0

# build_into DIR CMD...: runs CMD with $OUT set to a temp dir, then renames it to DIR.
build_into() {
  local dest="$1"; shift
  [ -d "$dest" ] && return 0
  local out; out="$(mktemp -d "$BIN/.tmp.XXXXXX")"
  local start=$SECONDS
  if ! OUT="$out" "$@"; then rm -rf "$out"; die "building $(basename "$dest") failed (see the Go output above); check that the Go module proxy is reachable (GOPROXY=$(go env GOPROXY))"; fi
  chmod 755 "$out"; mv "$out" "$dest"
  log "built $(basename "$dest") in $((SECONDS - start)) s"
}

# k8s_module WORK NAME CMD...: writes a wrapper module in WORK that builds k8s.io/kubernetes/cmd/CMD...
# at $K8S_VERSION, and sets $K8S_LDFLAGS (the version stamp).
k8s_module() {
  local work="$1" name="$2"; shift 2
  local m c minor patch
  minor="$(echo "$K8S_VERSION" | cut -d. -f2)"; patch="$(echo "$K8S_VERSION" | cut -d. -f3)"
  mkdir -p "$work"
  # The staging modules of k8s.io/kubernetes are replaced by ./staging paths in its own
  # go.mod; restate each replace at v0.<minor>.<patch> so the proxy can resolve them.
  local upstream; upstream="$(go mod download -json "k8s.io/kubernetes@$K8S_VERSION" | sed -n 's/.*"GoMod": "\(.*\)",*/\1/p')"
  [ -f "$upstream" ] || die "could not download k8s.io/kubernetes@$K8S_VERSION from the Go module proxy"
  {
    echo "module panalysis.invalid/$name"; echo; echo "go 1.25.0"; echo
    echo "require k8s.io/kubernetes $K8S_VERSION"; echo
    echo "tool ("
    for c in "$@"; do echo "	k8s.io/kubernetes/cmd/$c"; done
    echo ")"; echo; echo "replace ("
    sed -n 's#^[[:space:]]*\(k8s.io/[a-z0-9-]*\) => ./staging/src/k8s.io/.*#\1#p' "$upstream" | sort -u | while read -r m; do
      echo "	$m => $m v0.$minor.$patch"
    done
    echo ")"
  } > "$work/go.mod"
  (cd "$work" && go mod tidy >/dev/null)
  K8S_LDFLAGS="-s -w"
  local p
  for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    K8S_LDFLAGS="$K8S_LDFLAGS -X $p.gitVersion=$K8S_VERSION -X $p.gitMajor=1 -X $p.gitMinor=$minor -X $p.gitTreeState=clean -X $p.buildDate=1970-01-01T00:00:00Z"
  done
}

build_k8s() {
  local work="$CACHE/build/k8s-$K8S_VERSION"
  k8s_module "$work" k8s-bins kube-apiserver kube-controller-manager kube-scheduler kubectl
  local ld="$K8S_LDFLAGS"
  (cd "$work" && go build -trimpath -tags grpcnotrace -ldflags "$ld" -o "$OUT/" \
    k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager \
    k8s.io/kubernetes/cmd/kube-scheduler k8s.io/kubernetes/cmd/kubectl)
  "$OUT/kube-apiserver" --version | grep -q "$K8S_VERSION" || die "kube-apiserver does not report $K8S_VERSION"
}

build_etcd() {
  local work="$CACHE/build/etcd-$ETCD_VERSION"; mkdir -p "$work"
  printf 'module panalysis.invalid/etcd-bin\n\ngo 1.25.0\n\nrequire go.etcd.io/etcd/server/v3 %s\n' "$ETCD_VERSION" > "$work/go.mod"
  printf 'package main\n\nimport (\n\t"os"\n\n\t"go.etcd.io/etcd/server/v3/etcdmain"\n)\n\nfunc main() { etcdmain.Main(os.Args) }\n' > "$work/main.go"
  (cd "$work" && go mod tidy >/dev/null && go build -trimpath -ldflags "-s -w -X go.etcd.io/etcd/api/v3/version.GitSHA=$ETCD_VERSION" -o "$OUT/etcd" .)
}

# The real node's kubelet, in a module of its own (the control plane's module is left as it is,
# so adding kubelet does not rebuild the control plane).
build_kubelet() {
  local work="$CACHE/build/kubelet-$K8S_VERSION"
  k8s_module "$work" kubelet-bin kubelet
  (cd "$work" && go build -trimpath -tags grpcnotrace -ldflags "$K8S_LDFLAGS" -o "$OUT/kubelet" k8s.io/kubernetes/cmd/kubelet)
  "$OUT/kubelet" --version | grep -q "$K8S_VERSION" || die "kubelet does not report $K8S_VERSION"
}

build_kwok() { GOBIN="$OUT" go install -trimpath -ldflags "-s -w -X sigs.k8s.io/kwok/pkg/consts.Version=$KWOK_VERSION" "sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION"; }

build_helm() { GOBIN="$OUT" go install -trimpath -ldflags "-s -w -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION" "helm.sh/helm/v3/cmd/helm@$HELM_VERSION"; }

build_into "$BIN/etcd-$ETCD_VERSION" build_etcd
build_into "$BIN/kwok-$KWOK_VERSION" build_kwok
build_into "$BIN/helm-$HELM_VERSION" build_helm
build_into "$BIN/k8s-$K8S_VERSION" build_k8s
# The real node (kubelet here, containerd by its own script) only where it was asked for.
if [ "${PANALYSIS_REAL_NODE:-0}" = 1 ]; then
  build_into "$BIN/kubelet-$K8S_VERSION" build_kubelet
  bash "$here/build-containerd.sh"
fi
du -sh "$BIN" >&2
