#!/usr/bin/env bash
# Build the local stack's two binaries once, into .cache/stack/ (gitignored):
#   .cache/stack/otelcol/otelcol-distro  slim collector from collector/builder-config.yaml (OCB)
#   .cache/stack/jaeger/jaeger           Jaeger v2 from the recipe in collector/jaeger/
# Each is rebuilt only when its recipe (or the Go toolchain, or this script's
# build flags) changes: a stamp file records what the binary was built from.
# Builds are static and stripped: CGO_ENABLED=0, -trimpath, -ldflags='-s -w'.
#
# Usage: bash collector/scripts/build.sh [collector|jaeger|all]   (default: all)
# Env:   STACK_FORCE_BUILD=1 rebuilds even when the stamps match.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"

CACHE="$ROOT/.cache/stack"
MANIFEST="collector/builder-config.yaml"
JAEGER_RECIPE="collector/jaeger"
JAEGER_PKG="github.com/jaegertracing/jaeger/cmd/jaeger"
LDFLAGS="-s -w"
what="${1:-all}"

log() { printf 'stack-build: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

if ! command -v go >/dev/null 2>&1 && [[ -x /usr/local/go/bin/go ]]; then
    PATH="/usr/local/go/bin:$PATH" # the official tarball's place, often not on PATH
fi
command -v go >/dev/null 2>&1 || die "Go is not installed (need Go >= 1.26 on PATH)"
export CGO_ENABLED=0 GOWORK=off GOFLAGS="${GOFLAGS:-} -buildvcs=false"

mkdir -p "$CACHE"
# One build at a time (make stack-build and a test session may race).
exec 9>"$CACHE/build.lock"
flock 9

go_version="$(go env GOVERSION)"

# stamp_of FILE... : a digest of the given files, the toolchain and the flags.
stamp_of() {
    { cat "$@"; printf '%s\n%s\n' "$go_version" "$LDFLAGS"; } | sha256sum | cut -d' ' -f1
}

up_to_date() { # binary stamp-file expected
    [[ -z "${STACK_FORCE_BUILD:-}" && -x "$1" && -f "$2" && "$(cat "$2")" == "$3" ]]
}

build_collector() {
    local bin="$CACHE/otelcol/otelcol-distro" stamp_file="$CACHE/otelcol.stamp" stamp
    stamp="$(stamp_of "$MANIFEST")"
    if up_to_date "$bin" "$stamp_file" "$stamp"; then
        log "collector is up to date ($bin)"
        return
    fi
    # The builder's own version fixes the core version it generates, so it is
    # taken from the manifest (the otlp receiver's version).
    local ocb_version
    ocb_version="$(sed -n 's#^ *- gomod: go\.opentelemetry\.io/collector/receiver/otlpreceiver \(v[0-9][0-9.]*\).*#\1#p' "$MANIFEST")"
    [[ -n "$ocb_version" ]] || die "cannot find the otlpreceiver version in $MANIFEST"
    local builder="$CACHE/tools/builder-$ocb_version"
    if [[ ! -x "$builder" ]]; then
        log "installing the collector builder $ocb_version"
        mkdir -p "$CACHE/tools/tmp"
        GOBIN="$CACHE/tools/tmp" go install -trimpath -ldflags="$LDFLAGS" \
            "go.opentelemetry.io/collector/cmd/builder@$ocb_version"
        mv "$CACHE/tools/tmp/builder" "$builder"
    fi
    log "building the collector from $MANIFEST (a few minutes the first time)"
    rm -f "$stamp_file"
    local started=$SECONDS
    # The builder compiles with CGO_ENABLED=0 -trimpath -ldflags='-s -w';
    # --skip-strict-versioning=false fails if any module resolves to another release.
    "$builder" --config "$MANIFEST" --skip-strict-versioning=false --ldflags="$LDFLAGS" \
        >"$CACHE/otelcol-build.log" 2>&1 \
        || { tail -n 40 "$CACHE/otelcol-build.log" >&2; die "collector build failed (log: $CACHE/otelcol-build.log)"; }
    echo "$stamp" >"$stamp_file"
    log "collector built in $((SECONDS - started))s: $bin"
}

build_jaeger() {
    local bin="$CACHE/jaeger/jaeger" stamp_file="$CACHE/jaeger.stamp" stamp
    stamp="$(stamp_of "$JAEGER_RECIPE/go.mod" "$JAEGER_RECIPE/go.sum")"
    if up_to_date "$bin" "$stamp_file" "$stamp"; then
        log "jaeger is up to date ($bin)"
        return
    fi
    log "building Jaeger from $JAEGER_RECIPE/go.mod (a few minutes the first time)"
    rm -f "$stamp_file"
    mkdir -p "$CACHE/jaeger"
    local started=$SECONDS module_dir module_version v2_version
    (cd "$JAEGER_RECIPE" && go mod download github.com/jaegertracing/jaeger)
    module_dir="$(cd "$JAEGER_RECIPE" && go list -m -f '{{.Dir}}' github.com/jaegertracing/jaeger)"
    module_version="$(cd "$JAEGER_RECIPE" && go list -m -f '{{.Version}}' github.com/jaegertracing/jaeger)"
    # Module v1.N.x is Jaeger v2.M.x; its CHANGELOG names both ("v1.76.0 / v2.13.0").
    v2_version="$(sed -n "s#^${module_version//./\\.} / \(v2\.[0-9.]*\).*#\1#p" "$module_dir/CHANGELOG.md" | head -n 1)"
    [[ -n "$v2_version" ]] || die "cannot find the Jaeger v2 version of $module_version in its CHANGELOG"
    (cd "$JAEGER_RECIPE" && go build -trimpath \
        -ldflags="$LDFLAGS -X github.com/jaegertracing/jaeger/internal/version.latestVersion=$v2_version" \
        -o "$bin.tmp" "$JAEGER_PKG") \
        >"$CACHE/jaeger-build.log" 2>&1 \
        || { tail -n 40 "$CACHE/jaeger-build.log" >&2; die "jaeger build failed (log: $CACHE/jaeger-build.log)"; }
    mv "$bin.tmp" "$bin"
    echo "$stamp" >"$stamp_file"
    log "jaeger $v2_version built in $((SECONDS - started))s: $bin"
}

case "$what" in
    collector) build_collector ;;
    jaeger) build_jaeger ;;
    all) build_collector; build_jaeger ;;
    *) die "unknown target '$what' (collector, jaeger or all)" ;;
esac
