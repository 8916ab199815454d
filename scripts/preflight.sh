#!/usr/bin/env bash
# Gets a machine ready for `npm test` (and `npm start`): the system tools that the
# real-component tests run, a Go toolchain, and the local control plane binaries.
#
# - System tools: openssl (local cluster PKI), OpenLDAP slapd and ldap-utils (the real
#   directory of the LDAP tests; never started as a service), TigerVNC, websockify, xterm and
#   xsetroot (the VNC client's test against a real server). As root they are installed
#   with apt-get; otherwise the script stops at once with one line saying what to install.
# - Go >= 1.25 builds the control plane once. Where none is on PATH, the official
#   toolchain is taken from the Go module proxy (golang.org/toolchain) into the cache.
# - Then scripts/build-control-plane.sh builds or reuses the cached binaries.
# - The real node (kubelet, containerd, runc, CNI plugins) is prepared where it can run: as root
#   on Linux, unless PANALYSIS_REAL_NODE=0. runc, containernetworking-plugins, iptables and
#   iproute2 (and debootstrap, which builds the session images) come from apt-get (installed,
#   never started as services); kubelet and containerd are
#   built from the Go module proxy like the control plane. Elsewhere the local cluster runs
#   without it (kwok nodes only) and the tests that need it say they are skipped.
#
# Usage: bash scripts/preflight.sh [--no-ldap]   (--no-ldap: only what `npm start` needs; nothing
# at all when KUBECONFIG names the cluster to use)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
CACHE="${PANALYSIS_CACHE:-$HOME/.cache/panalysis}"
GO_TOOLCHAIN_VERSION=1.26.8
die() { echo "panalysis: $*" >&2; exit 1; }

need_ldap=1
if [ "${1:-}" = "--no-ldap" ]; then
  need_ldap=0
  # `npm start` on the cluster of KUBECONFIG needs no local control plane.
  [ -n "${KUBECONFIG:-}" ] && exit 0
fi

# 1. System tools (Debian package names).
missing=()
command -v openssl >/dev/null 2>&1 || missing+=(openssl)
if [ "$need_ldap" = 1 ]; then
  { [ -x /usr/sbin/slapd ] || command -v slapd >/dev/null 2>&1; } || missing+=(slapd)
  for tool in slapadd ldapmodify ldapwhoami ldapsearch; do
    if ! command -v "$tool" >/dev/null 2>&1 && [ ! -x "/usr/sbin/$tool" ]; then
      case "$tool" in slapadd) missing+=(slapd) ;; *) missing+=(ldap-utils) ;; esac
    fi
  done
  # The RFB client's test runs a real TigerVNC server behind websockify and draws on it.
  for pair in Xvnc:tigervnc-standalone-server vncpasswd:tigervnc-tools websockify:websockify xterm:xterm xsetroot:x11-xserver-utils setpriv:util-linux; do
    command -v "${pair%%:*}" >/dev/null 2>&1 || missing+=("${pair#*:}")
  done
  # The browser tests drive headless Chromium (CHROMIUM names another binary); it needs a font to draw text.
  [ -x "${CHROMIUM:-/usr/bin/chromium}" ] || missing+=(chromium)
  [ -d /usr/share/fonts/truetype/liberation ] || missing+=(fonts-liberation)
fi
real_node=0
if [ "${PANALYSIS_REAL_NODE:-1}" != 0 ] && [ "$(id -u)" = 0 ] && [ "$(uname -s)" = Linux ]; then
  real_node=1
  command -v runc >/dev/null 2>&1 || missing+=(runc)
  [ -x /usr/lib/cni/bridge ] && [ -x /usr/lib/cni/host-local ] && [ -x /usr/lib/cni/loopback ] && [ -x /usr/lib/cni/portmap ] || missing+=(containernetworking-plugins)
  { command -v iptables-save >/dev/null 2>&1 || [ -x /usr/sbin/iptables-save ]; } || missing+=(iptables)
  command -v ip >/dev/null 2>&1 || missing+=(iproute2)
  # The session images are built from Debian packages (scripts/build-images.sh).
  { command -v debootstrap >/dev/null 2>&1 || [ -x /usr/sbin/debootstrap ]; } || missing+=(debootstrap)
fi
if [ ${#missing[@]} -gt 0 ]; then
  mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "panalysis: installing ${missing[*]} with apt-get" >&2
    # Packages are installed, never started as services (slapd would start a system daemon).
    if [ ! -e /usr/sbin/policy-rc.d ]; then printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d; fi
    apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null ||
      die "apt-get could not install ${missing[*]}; install them and run again"
  else
    die "the tests need these system packages: ${missing[*]} (Debian/Ubuntu: sudo apt-get install ${missing[*]}); install them and run again"
  fi
fi

# 2. Go: the one on PATH if it is new enough, else the cached official toolchain.
go_ok() { command -v go >/dev/null 2>&1 && go version 2>/dev/null | awk '{split(substr($3,3),v,"."); exit !(v[1]>1 || (v[1]==1 && v[2]>=25))}'; }
if ! go_ok; then
  arch="$(uname -m)"; case "$arch" in x86_64) arch=amd64 ;; aarch64|arm64) arch=arm64 ;; esac
  goroot="$CACHE/go-$GO_TOOLCHAIN_VERSION"
  if [ ! -x "$goroot/bin/go" ]; then
    proxy="${GOPROXY:-https://proxy.golang.org}"; proxy="${proxy%%,*}"
    [ "$proxy" = direct ] || [ "$proxy" = off ] && proxy=https://proxy.golang.org
    zip="golang.org/toolchain/@v/v0.0.1-go$GO_TOOLCHAIN_VERSION.linux-$arch.zip"
    echo "panalysis: no Go >= 1.25 on PATH; fetching go$GO_TOOLCHAIN_VERSION from the Go module proxy into $goroot" >&2
    tmp="$(mktemp -d "${TMPDIR:-/tmp}/panalysis-go.XXXXXX")"
    curl -fsSL -o "$tmp/go.zip" "$proxy/$zip" ||
      die "could not fetch $proxy/$zip; install Go >= 1.25 (e.g. from go.dev) and run again"
    python3 -m zipfile -e "$tmp/go.zip" "$tmp/x" || die "could not unpack the Go toolchain; install Go >= 1.25 and run again"
    chmod -R u+x,go+rx "$tmp"/x/golang.org/toolchain@*/bin "$tmp"/x/golang.org/toolchain@*/pkg/tool
    mkdir -p "$CACHE" && mv "$tmp"/x/golang.org/toolchain@* "$goroot" && rm -rf "$tmp"
  fi
  export PATH="$goroot/bin:$PATH" GOROOT="$goroot"
fi

# 3. The control plane (kube-apiserver, etcd, kwok, helm, ...) and, where it can run, the real
#    node's kubelet and containerd, built once and cached.
PANALYSIS_REAL_NODE=$real_node exec bash "$here/build-control-plane.sh"
