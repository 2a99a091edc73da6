#!/usr/bin/env bash
# Puts the built OHIF v3 viewer (@ohif/app's dist/) in .cache/ohif/<version>/dist
# for the viewer tests. `npm install @ohif/app@3.13.2` fails (ETARGET on
# @ohif/i18n@3.13.2), so the tarball is fetched with `npm pack` and unpacked
# here. The tarball is checked against the registry's published sha512 pinned
# below before anything is extracted; a second run finds the stamp and exits.
# Prints the dist path on stdout (progress goes to stderr).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

VERSION=3.13.2
# dist.integrity of @ohif/app@3.13.2 on the npm registry.
INTEGRITY='sha512-WZdxmpmG7rqFgW9ZJLcbgr3XCtLi1KDNPoMaeY5PPe6j4G4fjEjjkycZM6C6Zk2F87BKxFfpq+jd5xXZB9E8EA=='
CACHE=.cache/ohif
TARBALL="$CACHE/ohif-app-$VERSION.tgz"
TARGET="$CACHE/$VERSION"
STAMP="$TARGET/.complete"

if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$INTEGRITY" ] && [ -f "$TARGET/dist/index.html" ]; then
  echo "$PWD/$TARGET/dist"
  exit 0
fi

integrity_of() { printf 'sha512-%s' "$(openssl dgst -sha512 -binary "$1" | base64 -w0)"; }

mkdir -p "$CACHE"
if [ ! -f "$TARBALL" ] || [ "$(integrity_of "$TARBALL")" != "$INTEGRITY" ]; then
  rm -f "$TARBALL"
  echo "fetch-ohif: npm pack @ohif/app@$VERSION (about 50 MB)" >&2
  # --ignore-scripts: nothing from the package runs; it is only unpacked.
  (cd "$CACHE" && npm pack "@ohif/app@$VERSION" --ignore-scripts --silent >/dev/null)
fi
actual=$(integrity_of "$TARBALL")
if [ "$actual" != "$INTEGRITY" ]; then
  echo "fetch-ohif: $TARBALL has integrity $actual, expected $INTEGRITY" >&2
  rm -f "$TARBALL"
  exit 1
fi

# Unpack beside the target and rename, so an interrupted run never leaves a half dist/ that looks complete.
partial="$CACHE/.partial-$VERSION-$$"
rm -rf "$partial"
mkdir -p "$partial"
trap 'rm -rf "$partial"' EXIT
tar -xzf "$TARBALL" -C "$partial" package/dist
if [ ! -f "$partial/package/dist/index.html" ]; then
  echo "fetch-ohif: $TARBALL has no package/dist/index.html" >&2
  exit 1
fi
rm -rf "$TARGET"
mkdir -p "$TARGET"
mv "$partial/package/dist" "$TARGET/dist"
printf '%s' "$INTEGRITY" > "$STAMP"
echo "fetch-ohif: OHIF $VERSION viewer in $TARGET/dist" >&2
echo "$PWD/$TARGET/dist"
