#!/usr/bin/env bash
# Rebuilds test/fixtures/musetalk-official: tiny MuseTalk modules built with the official classes
# (tiny_models.py), our export of them (export.py; the UNet and VAE graphs are kept, the Whisper
# encoder and the face parser are checked at export and left out for their size), the landmarks our
# engine finds on the fixture photos (face-landmarks.ts), and the official functions' outputs on them
# (official_goldens.py). Needs the Python side of docs/export.md ("Proving the lip-sync engine").
#
#   MUSETALK_REPO=../MuseTalk tools/export/musetalk/make_fixtures.sh [work directory]
set -euo pipefail
cd "$(dirname "$0")/../../.."
python="${PYTHON:-python}"
repository="${MUSETALK_REPO:?set MUSETALK_REPO to a TMElyralab/MuseTalk checkout}"
work="${1:-$(mktemp -d)}"
fixtures="test/fixtures/musetalk-official"
rm -rf "$work/tiny" "$work/export" "$work/goldens"
npx tsx tools/export/musetalk/face-landmarks.ts "$fixtures/face-2.png" "$fixtures/face-4.png" > "$fixtures/faces.json"
"$python" tools/export/musetalk/tiny_models.py --musetalk-repo "$repository" --out "$work/tiny"
"$python" tools/export/musetalk/export.py --musetalk-repo "$repository" --models-dir "$work/tiny/models" --out "$work/export"
"$python" tools/export/musetalk/official_goldens.py --musetalk-repo "$repository" --models-root "$work/tiny" \
  --fixtures "$fixtures" --out "$work/goldens"
rm -rf "${fixtures:?}/model" "${fixtures:?}/goldens"
mkdir -p "$fixtures/model/float32" "$fixtures/goldens"
cp "$work/export/manifest.json" "$fixtures/model/"
cp "$work"/export/float32/{unet,vae_encoder,vae_decoder}.onnx "$fixtures/model/float32/"
cp "$work"/goldens/* "$fixtures/goldens/"
echo "fixtures written to $fixtures (work files in $work)"
