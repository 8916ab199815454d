# shellcheck shell=bash disable=SC2034  # settings used by the scripts that source this file
# SPDX-License-Identifier: Apache-2.0
# Settings shared by the kind scripts; every one can be overridden from the environment.
# Sourced, not run.

KIND_CLUSTER="${KIND_CLUSTER:-panalysis-e2e}"
# A kind node image, e.g. kindest/node:v1.35.0; empty: the default of the installed kind.
KIND_NODE_IMAGE="${KIND_NODE_IMAGE:-}"
# The panalysis image built from the Dockerfile and loaded into the kind nodes (never pushed).
PANALYSIS_IMAGE_REPOSITORY="${PANALYSIS_IMAGE_REPOSITORY:-panalysis}"
PANALYSIS_IMAGE_TAG="${PANALYSIS_IMAGE_TAG:-e2e}"
# Images of sessions, pulled on the host and loaded into the nodes, so a session is not slower
# than the suite's timeouts because of a first pull. Empty: nothing is preloaded.
SESSION_IMAGES="${SESSION_IMAGES:-quay.io/jupyter/scipy-notebook:2025-10-20}"
# Where the cluster's kubeconfig is written; the e2e suites read it through E2E_KUBECONFIG.
E2E_KUBECONFIG="${E2E_KUBECONFIG:-$HOME/.kube/kind-$KIND_CLUSTER}"
# The proposal namespace prepared for trying the portal guide by hand.
E2E_PROPOSAL="${E2E_PROPOSAL:-20231234}"

KIND_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$KIND_DIR/../.." && pwd)"

log() { printf '[kind] %s\n' "$*" >&2; }
die() { printf '[kind] %s\n' "$*" >&2; exit 1; }

# Fails with one line per missing tool.
require_tools() {
  local missing=()
  for tool in "$@"; do command -v "$tool" >/dev/null 2>&1 || missing+=("$tool"); done
  if [ "${#missing[@]}" -gt 0 ]; then
    die "missing: ${missing[*]} (these scripts need docker with a running engine, kind, kubectl, helm and npm)"
  fi
  if [[ " $* " == *" docker "* ]] && ! docker info >/dev/null 2>&1; then
    die "docker is installed but its engine does not answer (docker info failed); start it first"
  fi
}

kctl() { kubectl --kubeconfig "$E2E_KUBECONFIG" "$@"; }
