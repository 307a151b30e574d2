#!/usr/bin/env bash
# Build the local stack's two binaries once, into .cache/stack/ (gitignored):
#   .cache/stack/otelcol/otelcol-distro  slim collector from collector/builder-config.yaml (OCB)
#   .cache/stack/jaeger/jaeger           Jaeger v2 from the recipe in collector/jaeger/
#   .cache/stack/jaeger-ui/              (target jaeger-ui only, not part of `all`) Jaeger's
#                                        web UI, built with npm from a jaeger-ui checkout
#                                        ($JAEGER_UI_SRC, tag v1.76.0 for Jaeger v2.13.0):
#                                        the Go module ships only a placeholder page;
#                                        stack.sh serves the UI when this folder exists
# Each is rebuilt only when its recipe (or the Go toolchain, or this script's
# build flags) changes: a stamp file records what the binary was built from.
# Builds are static and stripped: CGO_ENABLED=0, -trimpath, -ldflags='-s -w'.
#
# Usage: bash collector/scripts/build.sh [collector|jaeger|all|jaeger-ui]   (default: all)
# Env:   STACK_FORCE_BUILD=1 rebuilds even when the stamps match.
#        JAEGER_UI_SRC: the jaeger-ui checkout the jaeger-ui target builds (needs Node and npm).
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

# The UI release that goes with the Jaeger of collector/jaeger/go.mod.
JAEGER_UI_VERSION="1.76.0"

build_jaeger_ui() {
    local out="$CACHE/jaeger-ui" stamp_file="$CACHE/jaeger-ui.stamp" src="${JAEGER_UI_SRC:-}"
    [[ -n "$src" ]] || die "JAEGER_UI_SRC is not set: point it at a jaeger-ui checkout
    (git clone --branch v$JAEGER_UI_VERSION https://github.com/jaegertracing/jaeger-ui), or set
    JAEGER_UI_ASSETS to a folder of built UI assets instead of building them"
    [[ -f "$src/package-lock.json" && -f "$src/packages/jaeger-ui/package.json" ]] \
        || die "$src is not a jaeger-ui checkout (no package-lock.json, packages/jaeger-ui)"
    command -v npm >/dev/null 2>&1 || die "npm is not installed (Node >= 20.19 and npm are needed)"
    local version stamp
    version="$(sed -n 's/^ *"version": *"\([^"]*\)".*/\1/p' "$src/packages/jaeger-ui/package.json" | head -n 1)"
    [[ "$version" == "$JAEGER_UI_VERSION" ]] \
        || log "warning: $src is jaeger-ui $version; Jaeger v2.13.0 ships $JAEGER_UI_VERSION"
    stamp="$(cat "$src/package-lock.json" "$src/packages/jaeger-ui/package.json" | sha256sum | cut -d' ' -f1)"
    if [[ -z "${STACK_FORCE_BUILD:-}" && -f "$out/index.html" && -f "$stamp_file" \
        && "$(cat "$stamp_file")" == "$stamp" ]]; then
        log "jaeger-ui is up to date ($out)"
        return
    fi
    log "building jaeger-ui $version from $src (npm ci and vite build: a few minutes)"
    rm -f "$stamp_file"
    local work started=$SECONDS
    work="$(mktemp -d)"
    # A copy, so the checkout is left as it is; its node_modules (if any) are not reused.
    tar -C "$src" --exclude=./node_modules --exclude='./packages/*/node_modules' -cf - . \
        | tar -C "$work" -xf -
    # The release's package.json asks for Node 24 (engine-strict); its build runs on 20.19+.
    # --ignore-scripts: the install hooks are git hooks and a plexus build done below.
    if ! (
        cd "$work"
        npm ci --engine-strict=false --ignore-scripts --no-audit --no-fund
        cd packages/plexus
        NODE_ENV=production npx npm-run-all -ln --serial '_tasks/clean/*' _tasks/bundle-worker \
            --parallel '_tasks/build/**'
        cd ../jaeger-ui
        NODE_ENV=production REACT_APP_VSN_STATE='{}' npx vite build
    ) >"$CACHE/jaeger-ui-build.log" 2>&1; then
        tail -n 40 "$CACHE/jaeger-ui-build.log" >&2
        rm -rf "$work"
        die "jaeger-ui build failed (log: $CACHE/jaeger-ui-build.log)"
    fi
    rm -rf "$out"
    mkdir -p "$(dirname "$out")"
    mv "$work/packages/jaeger-ui/build" "$out"
    rm -rf "$work"
    echo "$stamp" >"$stamp_file"
    log "jaeger-ui $version built in $((SECONDS - started))s: $out"
}

if [[ "$what" == jaeger-ui ]]; then
    mkdir -p "$CACHE"
    build_jaeger_ui
    exit 0
fi

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
    *) die "unknown target '$what' (collector, jaeger, all or jaeger-ui)" ;;
esac
