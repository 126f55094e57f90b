#!/usr/bin/env bash
# Checks everything under deploy/ with real tools: builds the pinned helm, kustomize,
# kube-apiserver and etcd once (deploy/tools/build.sh, cached), then runs the deploy module's
# tests: the image, helm lint --strict and template of every ci/ values file, strict decoding into
# k8s.io/api types, kustomize builds and their drift from the chart, a server-side dry run of every
# object against a real kube-apiserver, and the dashboard and alerts against a real scrape.
set -euo pipefail
cd "$(dirname "$0")"

start=$SECONDS
CALLBRIDGE_TOOLS_BIN=$(bash tools/build.sh)
export CALLBRIDGE_TOOLS_BIN
echo "tools ready in $((SECONDS - start))s: $CALLBRIDGE_TOOLS_BIN"
"$CALLBRIDGE_TOOLS_BIN/helm" version --short
"$CALLBRIDGE_TOOLS_BIN/kustomize" version

echo "== deploy: go vet"
go vet ./...
echo "== deploy: go test"
go test -count=1 -timeout 20m ./...
echo "deploy/check.sh done in $((SECONDS - start))s"
