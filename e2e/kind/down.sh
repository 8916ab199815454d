#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Deletes the kind cluster of the e2e scripts and its kubeconfig file.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
require_tools kind
kind delete cluster --name "$KIND_CLUSTER"
rm -f "$E2E_KUBECONFIG"
