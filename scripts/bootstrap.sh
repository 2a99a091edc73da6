#!/usr/bin/env bash
# Makes a clone ready to run: Debian packages, npm dependencies, the native
# plugin, the compiled TypeScript. Used by `npm start`, `npm test` and
# `npm run bench`; each step is skipped when its output is already up to date,
# so a second run takes about a second.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

step() { printf 'bootstrap: %s\n' "$*"; }

# 1. Debian packages ---------------------------------------------------------
# python3: the UID test checks our HMAC against Python's. chromium: the OHIF viewer test (headless, Debian's build; no browser is downloaded).
# dpkg-dev: dpkg-shlibdeps, with which `npm run package` finds the Debian packages of the libraries the plugin links.
# fonts-dejavu-core, fonts-noto-mono: real fonts the burned-in text recall tests render identifiers with.
# postgresql: the work queue's PostgreSQL backend is tested against Debian's PostgreSQL 15 (test/harness/postgres-server.ts
# starts a throwaway cluster; the service the package installs is not started, see policy-rc.d below).
PACKAGES=(python3 dpkg-dev orthanc orthanc-dicomweb orthanc-dev dcmtk dicom3tools libdcmtk-dev libjsoncpp-dev clang chromium fonts-dejavu-core fonts-noto-mono postgresql orthanc-postgresql)
missing=()
for p in "${PACKAGES[@]}"; do
  if [ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" != "install ok installed" ]; then
    missing+=("$p")
  fi
done
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "bootstrap: missing Debian packages: ${missing[*]}" >&2
    echo "bootstrap: install them as root: apt-get install ${missing[*]}" >&2
    exit 1
  fi
  step "installing ${missing[*]}"
  # Debian's orthanc package starts a system service on 8042/4242; our Orthanc
  # runs in the foreground on its own, so forbid service starts during install.
  policy=/usr/sbin/policy-rc.d
  had_policy=0
  [ -e "$policy" ] && had_policy=1
  if [ "$had_policy" -eq 0 ]; then
    printf '#!/bin/sh\nexit 101\n' > "$policy"
    chmod +x "$policy"
    trap 'rm -f "$policy"' EXIT
  fi
  apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
  if [ "$had_policy" -eq 0 ]; then
    rm -f "$policy"
    trap - EXIT
  fi
  # Without systemd, or if policy-rc.d was not honoured, make sure no system Orthanc holds the ports.
  if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet orthanc 2>/dev/null; then
    systemctl stop orthanc || true
    systemctl disable orthanc || true
  fi
  if [ -x /etc/init.d/orthanc ] && /etc/init.d/orthanc status >/dev/null 2>&1; then
    /etc/init.d/orthanc stop || true
  fi
fi

# newer_than TARGET PATH...: true when any file under PATH is newer than TARGET.
newer_than() {
  local target=$1; shift
  [ -n "$(find "$@" -newer "$target" -type f -print -quit 2>/dev/null)" ]
}

# 2. npm dependencies --------------------------------------------------------
# A node_modules that is a symlink is shared (git worktrees of one clone):
# npm ci would empty the shared folder under every other checkout, so it is
# never reinstalled from here.
if [ -L node_modules ]; then
  step "node_modules is a shared symlink ($(readlink node_modules)); not reinstalling"
elif [ -f package-lock.json ]; then
  # npm writes node_modules/.package-lock.json on every install: older than the lockfile = stale.
  if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    step "npm ci"
    # package.json's install script is node-gyp rebuild: npm ci builds the plugin too.
    npm ci --no-audit --no-fund
  fi
elif [ ! -d node_modules ]; then
  step "npm install (no package-lock.json)"
  npm install --no-audit --no-fund
fi

# 3. Native plugin -----------------------------------------------------------
so=build/Release/libOrthancAiBridge.so
if [ ! -f "$so" ] || newer_than "$so" native binding.gyp; then
  step "building $so (node-gyp rebuild)"
  npx --no-install node-gyp rebuild
fi

# 4. TypeScript --------------------------------------------------------------
# tsc writes only what changed, but starting it costs seconds, so skip it when
# dist/ is newer than every source.
stamp=dist/.build-stamp
if [ ! -f "$stamp" ] || newer_than "$stamp" plugin central tools test bench tsconfig.json package.json; then
  step "npm run build (tsc)"
  npm run --silent build
  touch "$stamp"
fi
# 5. Admin UI ----------------------------------------------------------------
# Vite (Rolldown) bundles web-ui/ into dist/web-ui, served at /ai-bridge/ui/;
# about a second, and skipped when the bundle is newer than its sources
# (web-ui/ and the API contract it imports from plugin/core).
ui_index=dist/web-ui/index.html
if [ ! -f "$ui_index" ] || newer_than "$ui_index" web-ui plugin/core; then
  step "npm run build:ui (vite)"
  npm run --silent build:ui
fi

# 6. OHIF viewer for the viewer test -----------------------------------------
# npm pack of @ohif/app (its built dist/, checked against the registry's sha512)
# into .cache/ohif; a no-op once there.
bash scripts/fetch-ohif.sh >/dev/null

step "ready"
