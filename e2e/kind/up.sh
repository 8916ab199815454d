#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Creates a kind cluster, builds the panalysis image from the Dockerfile and loads it into the
# nodes, installs the Helm chart with e2e/kind/values.yaml, and prepares a proposal namespace.
# Idempotent: an existing cluster of the same name is reused and the release upgraded.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
require_tools docker kind kubectl helm

if kind get clusters 2>/dev/null | grep -qx "$KIND_CLUSTER"; then
  log "reusing kind cluster $KIND_CLUSTER"
else
  log "creating kind cluster $KIND_CLUSTER"
  kind create cluster --name "$KIND_CLUSTER" --config "$KIND_DIR/cluster.yaml" ${KIND_NODE_IMAGE:+--image "$KIND_NODE_IMAGE"} --wait 5m
fi
mkdir -p "$(dirname "$E2E_KUBECONFIG")"
kind get kubeconfig --name "$KIND_CLUSTER" >"$E2E_KUBECONFIG"
chmod 600 "$E2E_KUBECONFIG"

image="$PANALYSIS_IMAGE_REPOSITORY:$PANALYSIS_IMAGE_TAG"
log "building $image from the Dockerfile"
docker build -t "$image" "$REPO_ROOT"
log "loading $image into the nodes"
kind load docker-image --name "$KIND_CLUSTER" "$image"
for session_image in $SESSION_IMAGES; do
  log "preloading session image $session_image"
  docker pull "$session_image"
  kind load docker-image --name "$KIND_CLUSTER" "$session_image"
done

log "installing the chart"
kctl create namespace panalysis-system --dry-run=client -o yaml | kctl apply -f -
kctl label namespace panalysis-system pod-security.kubernetes.io/enforce=restricted --overwrite
# Helm installs CRDs only on the first install; apply them so that a reused cluster gets the current ones.
kctl apply --server-side -f "$REPO_ROOT/charts/panalysis/crds/"
helm upgrade --install panalysis "$REPO_ROOT/charts/panalysis" \
  --kubeconfig "$E2E_KUBECONFIG" --namespace panalysis-system \
  --values "$KIND_DIR/values.yaml" \
  --set image.repository="$PANALYSIS_IMAGE_REPOSITORY" --set image.tag="$PANALYSIS_IMAGE_TAG" \
  --set image.pullPolicy=IfNotPresent \
  --wait --timeout 5m
kctl -n panalysis-system rollout status deployment/panalysis-operator --timeout=5m

ns="proposal-$E2E_PROPOSAL"
log "preparing proposal namespace $ns"
kctl create namespace "$ns" --dry-run=client -o yaml | kctl apply -f -
kctl label namespace "$ns" "panalysis.io/proposal=$E2E_PROPOSAL" pod-security.kubernetes.io/enforce=restricted --overwrite
# The operator writes session objects only where it is bound (docs/operator-rbac.md).
kctl -n "$ns" create rolebinding panalysis-operator --clusterrole=panalysis-operator-namespaced \
  --serviceaccount=panalysis-system:panalysis-operator --dry-run=client -o yaml | kctl apply -f -

log "ready: export KUBECONFIG=$E2E_KUBECONFIG"
