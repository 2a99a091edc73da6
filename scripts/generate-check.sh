#!/usr/bin/env bash
# Proves that the committed SDK code model and everything rendered from it are
# exactly what tools/gen-sdk produces (STYLE.md: "Generated code is marked and
# reproducible"). Run by `npm run generate:check`, after `npm run build`.
set -euo pipefail
cd "$(dirname "$0")/.."

GEN=dist/tools/gen-sdk/main.js
MODEL=plugin/sdk/model/OrthancPluginCodeModel.json
PATHS=(plugin/sdk/model plugin/sdk/generated native/orthanc/generated)

fail() {
  echo "generate-check: $*" >&2
  exit 1
}

[ -f "$GEN" ] || fail "$GEN is missing; run 'npm run build' first."
if [ -n "$(find tools/gen-sdk -name '*.ts' -newer "$GEN" -print -quit)" ]; then
  fail "$GEN is older than tools/gen-sdk/*.ts; run 'npm run build' first."
fi

# 1. Render from the committed model (deterministic; rewrites only what differs).
node "$GEN"

# 2. The committed model must still be what clang reads from the pinned header.
if command -v clang >/dev/null 2>&1; then
  tmp="$(mktemp)"
  trap 'rm -f "$tmp"' EXIT
  node "$GEN" --model-out "$tmp" >/dev/null
  if ! cmp -s "$tmp" "$MODEL"; then
    diff -u "$MODEL" "$tmp" | head -n 60 >&2 || true
    fail "$MODEL differs from what clang derives from the header now. If the header changed on purpose, run 'node $GEN --from-header', review the diff, and commit it."
  fi
else
  echo "generate-check: clang not found; checked the rendering only, not the model against the header." >&2
fi

# 3. Generated files must be committed, and unchanged by the run above.
untracked="$(git status --porcelain --untracked-files=all -- "${PATHS[@]}" | grep '^??' || true)"
if [ -n "$untracked" ]; then
  echo "$untracked" >&2
  fail "generated files are not tracked by git; add and commit them."
fi
if ! git --no-pager diff --stat --exit-code -- "${PATHS[@]}" >&2; then
  fail "generated files differ from their generator (above). Change the model, custom.json or tools/gen-sdk, never the output; then run 'npm run generate' and commit."
fi
echo "generate-check: SDK model and generated files are up to date."

# 4. config/deid/ps3.15-e1-1.json is Table E.1-1 as tools/gen-deid-table renders it.
if [ -f ../shared/reference/ps3.15-table-e.1-1.json ]; then
  node dist/tools/gen-deid-table/main.js --check || fail "config/deid/ps3.15-e1-1.json differs from tools/gen-deid-table's output; run 'npm run generate' and commit."
  echo "generate-check: de-identification table is up to date."
else
  echo "generate-check: ../shared/reference is absent; de-identification table not re-derived." >&2
fi

# 5. model-packages/ is what tools/build-models builds (graphs, manifests with measured figures, commissioning inputs).
if [ -d ../shared/data ]; then
  node dist/tools/build-models/main.js --check >/dev/null || fail "model-packages/ differs from tools/build-models' output; run 'node dist/tools/build-models/main.js' and commit."
  echo "generate-check: model packages are up to date."
else
  echo "generate-check: ../shared/data is absent; model packages not rebuilt." >&2
fi
