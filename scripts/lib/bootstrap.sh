# Shared by ./brokerkit and ./scripts/test: make sure Node, pnpm and the workspace's
# dependencies are there, installing only what is missing. Source it; do not run it.
set -euo pipefail

BROKERKIT_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
PNPM_VERSION="$(sed -n 's/.*"packageManager": *"pnpm@\([^"]*\)".*/\1/p' "$BROKERKIT_ROOT/package.json")"

say() { printf '\033[1;34m[brokerkit]\033[0m %s\n' "$*" >&2; }
die() { printf '\033[1;31m[brokerkit] error:\033[0m %s\n' "$*" >&2; exit 1; }

# The Node.js line the project is developed and tested on (engines in package.json: >= 22).
NODE_VERSION=24.22.3
NODE_MAJOR="${NODE_VERSION%%.*}"

# Use the system's Node.js when it is of the tested line or newer; otherwise the pinned one,
# installed once into .tools/ from the npm registry's node-<os>-<arch> package (the official
# binary, shipped inside a registry package), and put first on PATH for every command after.
ensure_node() {
  local tools="$BROKERKIT_ROOT/.tools/node-v$NODE_VERSION"
  if [ -x "$tools/bin/node" ]; then
    export PATH="$tools/bin:$PATH"
    return
  fi
  if command -v node >/dev/null && [ "$(node -p 'process.versions.node.split(".")[0]')" -ge "$NODE_MAJOR" ]; then return; fi
  command -v npm >/dev/null || die "Node.js $NODE_MAJOR or newer is required (https://nodejs.org), or npm to install it from the registry; neither is on PATH"
  local os arch package tmp
  os="$(uname -s | tr '[:upper:]' '[:lower:]')"
  case "$(uname -m)" in
    x86_64 | amd64) arch=x64 ;;
    aarch64 | arm64) arch=arm64 ;;
    *) die "no Node.js package for this processor ($(uname -m)); install Node.js $NODE_MAJOR yourself" ;;
  esac
  package="node-$os-$arch@$NODE_VERSION"
  say "installing Node.js $NODE_VERSION into .tools/ (npm package $package): the system has $(node --version 2>/dev/null || echo none)"
  tmp="$(mktemp -d)"
  (cd "$tmp" && npm pack --silent "$package" >/dev/null) || { rm -rf "$tmp"; die "could not fetch $package from the npm registry"; }
  mkdir -p "$tools.partial"
  tar -xzf "$tmp"/*.tgz -C "$tools.partial" --strip-components=1 package/bin package/LICENSE
  rm -rf "$tmp"
  mv "$tools.partial" "$tools"
  export PATH="$tools/bin:$PATH"
  [ "$(node -p 'process.versions.node')" = "$NODE_VERSION" ] || die "the Node.js installed into $tools does not run"
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
