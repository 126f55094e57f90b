#!/usr/bin/env bash
# Builds the pinned tools of deploy/check.sh (helm, kustomize, kube-apiserver, etcd) from the Go
# module proxy, once, into a cache directory keyed by the pins, and prints that bin directory.
# Each tool has its own module under deploy/tools/ so their dependency graphs never mix (helm and
# kube-apiserver share k8s.io modules at different versions). A cold build takes about 6 minutes
# on 2 cores; afterwards this only checks that the binaries are there.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)

# The cache key covers everything that decides the binaries: the pins, this script, Go's version.
key=$( { cat "$here"/*/go.mod "$here"/*/go.sum "$here/build.sh"; go version; } | sha256sum | cut -c1-16)
bin=${CALLBRIDGE_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/callbridge-tools/$key}/bin
mkdir -p "$bin"

# build NAME MODULE-DIR PACKAGE LDFLAGS: go build into a temporary name, then rename, so an
# interrupted build never leaves a binary that looks finished.
build() {
  local name=$1 dir=$2 pkg=$3 ldflags=$4
  if [ -x "$bin/$name" ]; then return; fi
  echo "building $name ($pkg) into $bin" >&2
  local start=$SECONDS
  CGO_ENABLED=0 go -C "$here/$dir" build -trimpath -ldflags "$ldflags" -o "$bin/$name.partial" "$pkg"
  mv "$bin/$name.partial" "$bin/$name"
  echo "built $name in $((SECONDS - start))s" >&2
}

# version MODULE-DIR MODULE: the version the wrapper module pins.
version() { go -C "$here/$1" list -m -f '{{.Version}}' "$2"; }

helm_version=$(version helm helm.sh/helm/v4)
build helm helm helm.sh/helm/v4/cmd/helm \
  "-s -w -X helm.sh/helm/v4/internal/version.version=$helm_version -X helm.sh/helm/v4/internal/version.metadata= -X helm.sh/helm/v4/internal/version.gitTreeState=clean"

kustomize_version=$(version kustomize sigs.k8s.io/kustomize/kustomize/v5)
build kustomize kustomize sigs.k8s.io/kustomize/kustomize/v5 \
  "-s -w -X sigs.k8s.io/kustomize/api/provenance.version=$kustomize_version"

# kube-apiserver derives its default compatibility version, and answers /version (which helm's and
# kubectl's kubeVersion checks read), from these variables; unstamped it claims v0.0.0-master.
kube_version=$(version kube-apiserver k8s.io/kubernetes)
kube_minor=$(echo "$kube_version" | cut -d. -f2)
for v in "$helm_version" "$kustomize_version" "$kube_version" "$kube_minor"; do
  if [ -z "$v" ]; then echo "build.sh: a pinned version could not be read" >&2; exit 1; fi
done
kube_ldflags="-s -w"
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  kube_ldflags+=" -X $pkg.gitVersion=$kube_version -X $pkg.gitMajor=1 -X $pkg.gitMinor=$kube_minor"
  kube_ldflags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
done
build kube-apiserver kube-apiserver k8s.io/kubernetes/cmd/kube-apiserver "$kube_ldflags"

build etcd etcd go.etcd.io/etcd/server/v3 "-s -w"

# The CRDs of the ServiceMonitor and PrometheusRule the chart renders, so the apiserver validates
# them like any other object. They come from prometheus-operator's module (its example/ directory),
# checked against the Go checksum database like every module.
promop=github.com/prometheus-operator/prometheus-operator@v0.85.0
crds=$(dirname "$bin")/crds
if [ ! -s "$crds/monitoring.coreos.com_servicemonitors.yaml" ]; then
  dir=$(go mod download -json "$promop" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
  mkdir -p "$crds"
  for kind in servicemonitors prometheusrules; do
    cp "$dir/example/prometheus-operator-crd/monitoring.coreos.com_$kind.yaml" "$crds/"
  done
fi

echo "$bin"
