# Shared by ./brokerkit and ./scripts/test: make sure Node, pnpm and the workspace's
# dependencies are there, installing only what is missing. Source it; do not run it.
set -euo pipefail

BROKERKIT_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
PNPM_VERSION="$(sed -n 's/.*"packageManager": *"pnpm@\([^"]*\)".*/\1/p' "$BROKERKIT_ROOT/package.json")"

say() { printf '\033[1;34m[brokerkit]\033[0m %s\n' "$*" >&2; }
die() { printf '\033[1;31m[brokerkit] error:\033[0m %s\n' "$*" >&2; exit 1; }

ensure_node() {
  command -v node >/dev/null || die "Node.js 20 or newer is required (https://nodejs.org); none is on PATH"
  local major
  major="$(node -p 'process.versions.node.split(".")[0]')"
  [ "$major" -ge 20 ] || die "Node.js 20 or newer is required; found $(node --version)"
}

ensure_pnpm() {
  if command -v pnpm >/dev/null && [ "$(pnpm --version 2>/dev/null)" = "$PNPM_VERSION" ]; then return; fi
  say "installing pnpm $PNPM_VERSION (the version package.json pins)"
  npm install --global --no-fund --no-audit "pnpm@$PNPM_VERSION" >&2 \
    || die "could not install pnpm $PNPM_VERSION with npm"
}

# Install when node_modules is missing or older than the lockfile.
ensure_node_deps() {
  ensure_node
  ensure_pnpm
  local marker="$BROKERKIT_ROOT/node_modules/.modules.yaml"
  if [ ! -f "$marker" ] || [ "$BROKERKIT_ROOT/pnpm-lock.yaml" -nt "$marker" ]; then
    say "installing dependencies (pnpm install --frozen-lockfile)"
    (cd "$BROKERKIT_ROOT" && pnpm install --frozen-lockfile --reporter=append-only >&2)
  fi
}
