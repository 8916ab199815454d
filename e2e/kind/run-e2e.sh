#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The e2e suites on a kind cluster: up.sh (cluster, image, chart), then `npm run e2e` against it.
# The cluster is kept for a look after a failure; KIND_DELETE=1 deletes it at the end either way.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
require_tools docker kind kubectl helm npm

"$KIND_DIR/up.sh"
status=0
(
  cd "$REPO_ROOT"
  E2E_KUBECONFIG="$E2E_KUBECONFIG" E2E_PROPOSAL="$E2E_PROPOSAL" \
    E2E_PROFILE="${E2E_PROFILE:-jupyter-scipy}" E2E_USER="${E2E_USER:-alice}" npm run e2e
) || status=$?
if [ "$status" -ne 0 ]; then
  log "e2e failed (exit $status); operator logs:"
  kctl -n panalysis-system logs deployment/panalysis-operator --all-containers --tail=200 || true
fi
if [ "${KIND_DELETE:-0}" = 1 ]; then "$KIND_DIR/down.sh"; fi
exit "$status"
