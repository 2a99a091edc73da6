#!/usr/bin/env bash
# npm run package [-- OUT_DIR]: builds OUT_DIR/orthanc-ai-bridge_<version>_<arch>.deb
# (default OUT_DIR: dist/package) with dpkg-deb from this built clone
# (scripts/bootstrap.sh: TypeScript, native plugin and addon, admin UI, OHIF).
#
#   /usr/lib/orthanc-ai-bridge/          gateway, workers, CLI (dist/), native code (build/Release/),
#                                        production node_modules, config/, model-packages/, ohif/
#   /usr/share/orthanc/plugins/libOrthancAiBridge.so -> the plugin in build/Release/ (Debian's
#                                        own plugins are links to their package's folder the same way;
#                                        the plugin finds its gateway from the link's target)
#   /etc/orthanc/ai-bridge.json          the AiBridge section, commented (a conffile)
#   /usr/bin/orthanc-ai-bridge           the command line (deid, model, central)
#   /var/lib/orthanc/ai-bridge           created by postinst for Orthanc's user, never removed
#
# Production node_modules are copied from node_modules/ (no download): the
# packages package-lock.json does not mark dev, i.e. what `npm ci --omit=dev`
# would install. Prints the .deb's path on stdout (progress on stderr).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

OUT_DIR=$(realpath -m "${1:-dist/package}")
NAME=orthanc-ai-bridge
VERSION=$(node -p "require('./package.json').version")
ARCH=$(dpkg --print-architecture)
OHIF_VERSION=$(sed -n 's/^VERSION=//p' scripts/fetch-ohif.sh)
OHIF_DIST=.cache/ohif/$OHIF_VERSION/dist

for required in build/Release/libOrthancAiBridge.so build/Release/aibridge_addon.node dist/plugin/gateway/main.js \
  dist/plugin/cli/main.js dist/web-ui/index.html "$OHIF_DIST/index.html" package-lock.json; do
  if [ ! -f "$required" ]; then
    echo "package: $required is missing: run scripts/bootstrap.sh first" >&2
    exit 1
  fi
done

STAGE=$(mktemp -d)
trap 'rm -rf "$STAGE"' EXIT
ROOT=$STAGE/usr/lib/$NAME

# Hard links where the stage shares the file system (nothing in the stage is
# modified in place, only unlinked), copies otherwise.
copy_tree() {
  mkdir -p "$(dirname "$2")"
  if ! cp -al "$1" "$2" 2>/dev/null; then
    rm -rf "$2"
    cp -a "$1" "$2"
  fi
}

echo "package: staging $NAME $VERSION ($ARCH)" >&2
mkdir -p "$ROOT/dist" "$ROOT/build/Release" "$ROOT/bin"
# The gateway, workers and CLI (plugin/, central/ which the CLI serves), the admin UI, and the schema validators
# the build compiled (plugin/core/schema-validator.ts); not tests, benches, generators.
for part in plugin central web-ui validators; do copy_tree "dist/$part" "$ROOT/dist/$part"; done
cp build/Release/libOrthancAiBridge.so build/Release/aibridge_addon.node "$ROOT/build/Release/"
cp bin/orthanc-ai-bridge.js "$ROOT/bin/"
copy_tree config "$ROOT/config"
copy_tree model-packages "$ROOT/model-packages"
cp package.json "$ROOT/"
copy_tree "$OHIF_DIST" "$ROOT/ohif"

echo "package: production node_modules from package-lock.json" >&2
node -e '
  const lock = require("./package-lock.json");
  const fs = require("node:fs");
  const wanted = Object.entries(lock.packages)
    .filter(([key, entry]) => key.startsWith("node_modules/") && !entry.dev && !entry.devOptional && !entry.link)
    .map(([key]) => key)
    // An optional dependency for another platform is in the lock but not on disk.
    .filter((key) => fs.existsSync(key))
    .sort();
  // A nested package travels with the package folder that holds it.
  const top = wanted.filter((key) => !wanted.some((other) => other !== key && key.startsWith(other + "/")));
  process.stdout.write(top.join("\n") + "\n");
' > "$STAGE/modules.txt"
while IFS= read -r module; do
  [ -n "$module" ] && copy_tree "$module" "$ROOT/$module"
done < "$STAGE/modules.txt"
# onnxruntime-node ships its runtime for every platform; this package runs on one.
case "$ARCH" in amd64) ORT_KEEP=linux/x64 ;; arm64) ORT_KEEP=linux/arm64 ;; *) ORT_KEEP=none ;; esac
for dir in "$ROOT"/node_modules/onnxruntime-node/bin/napi-v*/*/*; do
  [ -d "$dir" ] || continue
  case "$dir" in */"$ORT_KEEP") ;; *) rm -rf "$dir" ;; esac
done

mkdir -p "$STAGE/usr/share/orthanc/plugins" "$STAGE/usr/bin" "$STAGE/etc/orthanc" "$STAGE/usr/share/doc/$NAME" "$STAGE/DEBIAN"
ln -s "../../../lib/$NAME/build/Release/libOrthancAiBridge.so" "$STAGE/usr/share/orthanc/plugins/libOrthancAiBridge.so"
ln -s "../lib/$NAME/bin/orthanc-ai-bridge.js" "$STAGE/usr/bin/orthanc-ai-bridge"
install -m 0644 packaging/debian/ai-bridge.json "$STAGE/etc/orthanc/ai-bridge.json"
install -m 0644 README.md "$STAGE/usr/share/doc/$NAME/README.md"
printf 'orthanc-ai-bridge %s\nLicense: Apache-2.0 (package.json). Third-party licences: /usr/lib/%s/node_modules/*/LICENSE*, OHIF (MIT): /usr/lib/%s/ohif/.\n' \
  "$VERSION" "$NAME" "$NAME" > "$STAGE/usr/share/doc/$NAME/copyright"

echo "package: shared-library dependencies (dpkg-shlibdeps)" >&2
# dpkg-shlibdeps reads a debian/control; every ELF object the package ships is
# checked, libraries shipped inside node_modules (onnxruntime) found beside their users.
mkdir -p "$STAGE/shlibs/debian"
printf 'Source: %s\n\nPackage: %s\nArchitecture: any\n' "$NAME" "$NAME" > "$STAGE/shlibs/debian/control"
mapfile -t ELF < <(find "$ROOT" -type f \( -name '*.node' -o -name '*.so' -o -name '*.so.*' \) -exec sh -c 'head -c4 "$1" | grep -q ELF && echo "$1"' _ {} \;)
PRIVATE=()
for object in "${ELF[@]}"; do PRIVATE+=("-l$(dirname "$object")"); done
SHLIBS=$(cd "$STAGE/shlibs" && dpkg-shlibdeps -O --ignore-missing-info "${PRIVATE[@]}" "${ELF[@]/#/-e}" 2>"$STAGE/shlibdeps.log" | sed -n 's/^shlibs:Depends=//p') || {
  cat "$STAGE/shlibdeps.log" >&2
  exit 1
}
rm -rf "$STAGE/shlibs"
if ! grep -q 'libdcmtk' <<<"$SHLIBS"; then
  echo "package: dpkg-shlibdeps found no DCMTK library among the dependencies: $SHLIBS" >&2
  exit 1
fi

INSTALLED_KB=$(du -sk --exclude=DEBIAN "$STAGE" | cut -f1)
cat > "$STAGE/DEBIAN/control" <<EOF
Package: $NAME
Version: $VERSION
Architecture: $ARCH
Maintainer: orthanc-ai-bridge developers <orthanc-ai-bridge@users.noreply.github.com>
Section: science
Priority: optional
Installed-Size: $INSTALLED_KB
Depends: orthanc (>= 1.10), orthanc-dicomweb, nodejs (>= 20), $SHLIBS
Recommends: dcmtk
Description: Orthanc plugin: sealed de-identification and AI annotation
 Every instance stored in Orthanc is de-identified in a kernel-sealed worker
 process, annotated by ONNX models for its scan category, and the findings
 come back into the study as DICOM SR (TID 1500) and GSPS through STOW-RS.
 An admin UI and REST API are served under /ai-bridge/, and optionally the
 OHIF viewer under /ai-bridge/viewer/.
EOF
echo "/etc/orthanc/ai-bridge.json" > "$STAGE/DEBIAN/conffiles"
install -m 0755 packaging/debian/postinst packaging/debian/postrm "$STAGE/DEBIAN/"
(cd "$STAGE" && find usr etc -type f -print0 | sort -z | xargs -0 md5sum > DEBIAN/md5sums)

mkdir -p "$OUT_DIR"
DEB="$OUT_DIR/${NAME}_${VERSION}_${ARCH}.deb"
echo "package: dpkg-deb --build ($INSTALLED_KB kB installed)" >&2
# zstd: what dpkg has read since 1.21.18 (bookworm has 1.21.22); xz takes minutes on this much.
dpkg-deb --root-owner-group -Zzstd -z6 --build "$STAGE" "$DEB" >&2
echo "$DEB"
