#!/usr/bin/env bash
# Hashes what the bundled models produce, for checking that a refactor preserves behaviour:
# the demo PNGs, --mode=hybrid, --structural_prior=silhouette, --video on a fixed clip, and the
# outputs of an end-to-end inpainter exported from the bundled M_z and M_{z+S} (run in a fresh
# process that loads only the SavedModel). Usage: bash scripts/behaviour_hashes.sh OUT_DIR
# Prints "<sha256>  <name>" lines; run it before and after a change and diff the two outputs.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
out="$(mkdir -p "$1" && cd "$1" && pwd)"
PY="${PYTHON:-python3}"
"$PY" scripts/behaviour_inputs.py "$out/inputs" >/dev/null
"$PY" -m binaries.inpaint --output_dir="$out/demo" >/dev/null 2>&1
"$PY" -m binaries.inpaint --mode=hybrid --refine_steps=20 --output_dir="$out/hybrid" >/dev/null 2>&1
"$PY" -m binaries.inpaint --structural_prior=silhouette --output_dir="$out/silhouette" >/dev/null 2>&1
"$PY" -m binaries.inpaint --video --input="$out/inputs/clips" --mask_kind=rectangle --mask_motion=moving \
    --output_dir="$out/video" >/dev/null 2>&1
"$PY" scripts/behaviour_inputs.py --export "$out/export" >/dev/null 2>&1
for model in m_z m_zs; do
  "$PY" - "$out/export/$model" "$out/inputs" <<'PY' > "$out/export/$model.txt"
# A process that never imports pgi_tf: TF Serving's view of the exported inpainter.
import hashlib, sys
import numpy as np
import tensorflow as tf
model = tf.saved_model.load(sys.argv[1])
data = np.load(sys.argv[2] + "/batch.npz")
for name in ("serving_default", "inpaint_uint8"):
  fn = model.signatures[name]
  if name == "serving_default":
    out = fn(images=tf.constant(data["images"]), masks=tf.constant(data["masks"]))
  else:
    out = fn(images=tf.constant(data["images_uint8"]), masks=tf.constant(data["masks_uint8"]))
  for key in sorted(out):
    print(hashlib.sha256(out[key].numpy().tobytes()).hexdigest(), f"{name}/{key}")
PY
done
cd "$out"
find demo hybrid silhouette video -name '*.png' -o -name '*.gif' | sort | xargs sha256sum
cat export/m_z.txt | sed 's/$/ (m_z)/'
cat export/m_zs.txt | sed 's/$/ (m_zs)/'
