#!/bin/sh
# Renders an overlay: deploy/k8s/render.sh dev|production [kubectl kustomize flags]
# First generates the PrometheusRule from deploy/prometheus/alerts.yml (components/prometheus-operator),
# so what is applied always carries the current rules.   Apply: deploy/k8s/render.sh production | kubectl apply -f -
set -eu
here=$(cd "$(dirname "$0")" && pwd)
overlay=${1:?usage: render.sh dev|production}
shift
[ -d "$here/overlays/$overlay" ] || { echo "no overlay $overlay (have: $(ls "$here/overlays" | tr '\n' ' '))" >&2; exit 2; }
"$here/components/prometheus-operator/generate-prometheus-rule.sh"
exec kubectl kustomize "$here/overlays/$overlay" "$@"
