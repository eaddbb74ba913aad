r"""Inpaint a folder of images (or one image) with masks; write results and a side-by-side grid.

  python -m binaries.inpaint                      # bundled Fashion-MNIST model on the bundled samples
  python -m binaries.inpaint --input=photos/ --masks=masks/ --output_dir=out/ --mode=hybrid
  python -m binaries.inpaint --input=img.png --mask_kind=ratio --hole_ratio=0.4

Masks: PNG, white = hole, matched to images by relative path (cat.jpg <-> cat.png), or one
mask for all; or generated with --mask_kind (seeded). Images of another size than the model
are resized for the model; the known pixels are pasted back at full resolution (Eq. 8).
Modes: single (Eq. 8, one pass), iterative (Yeh et al., Eq. 2), hybrid (iterative from P's z).
"""

from binaries import _main  # noqa: F401

import json

from absl import flags

from pgi_tf import inpaint_files
from pgi_tf.data import masks as masks_lib

_MODEL_DIR = flags.DEFINE_string(
    "model_dir", "", "generator/, discriminator/, prior_predictor/ (+ keypoint_refiner/); '' = the bundled "
    "model of --structural_prior (hub_modules/fashion_mnist32, hub_modules/fashion_mnist32_silhouette).")
_REFINER = flags.DEFINE_string("keypoint_refiner", "", "Keypoint refiner module (overrides --model_dir).")
_GENERATOR = flags.DEFINE_string("generator", "", "Generator module (overrides --model_dir).")
_DISCRIMINATOR = flags.DEFINE_string("discriminator", "", "Discriminator module, or 'none'.")
_PRIOR = flags.DEFINE_string("prior_predictor", "", "Prior predictor module (overrides --model_dir).")
_INPUT = flags.DEFINE_string("input", "hub_modules/samples/images", "Image file or folder (recursive).")
_MASKS = flags.DEFINE_string("masks", "hub_modules/samples/masks", "Mask PNG or folder; '' with --mask_kind.")
_MASK_KIND = flags.DEFINE_enum("mask_kind", None, list(masks_lib.MASK_KINDS[:-1]), "Generate masks instead.")
_HOLE_RATIO = flags.DEFINE_float("hole_ratio", 0.25, "For --mask_kind=ratio (and central).")
_HOLE_SIZE = flags.DEFINE_integer("hole_size", 0, "For --mask_kind=square/central: side in px (0: half).")
_OUTPUT_DIR = flags.DEFINE_string("output_dir", "runs/inpaint", "Where results go.")
_STRUCTURAL_PRIOR = flags.DEFINE_enum(
    "structural_prior", "auto", ["auto", "none", "silhouette", "landmarks"],
    "M_z (none) or M_{z+S} (§4.2) with this structural prior; must match the model's. auto: the "
    "model's own (bundled M_z when --model_dir is not given).")
_MODE = flags.DEFINE_enum("mode", "single", ["single", "iterative", "hybrid"], "How z is found.")
_ITERATIONS = flags.DEFINE_integer("iterations", None, "Iterative mode steps (default 1000, 1500 at >= 128 px).")
_REFINE_STEPS = flags.DEFINE_integer("refine_steps", 100, "Hybrid mode: steps of search from P's z.")
_POISSON = flags.DEFINE_boolean("poisson_blend", False, "Poisson-blend G(z) into the hole (Yeh et al.).")
_BATCH_SIZE = flags.DEFINE_integer("batch_size", 16, "Images per batch.")
_SEED = flags.DEFINE_integer("seed", 0, "Seed for generated masks and the iterative start.")


def main(argv):
  del argv
  need_p = _MODE.value != "iterative"
  models = inpaint_files.load_models(
      model_dir=_MODEL_DIR.value or inpaint_files.default_model_dir(_STRUCTURAL_PRIOR.value),
      generator=_GENERATOR.value, discriminator=_DISCRIMINATOR.value, prior_predictor=_PRIOR.value,
      need_prior_predictor=need_p, structural_prior=_STRUCTURAL_PRIOR.value,
      keypoint_refiner=_REFINER.value)
  spec = None
  if _MASK_KIND.value:
    fields = {"kind": _MASK_KIND.value}
    if _MASK_KIND.value == "ratio":
      fields["hole_ratio"] = _HOLE_RATIO.value
    if _MASK_KIND.value in ("square", "central"):
      fields["size"] = _HOLE_SIZE.value
    if _MASK_KIND.value == "rectangle":
      fields.update(min_side_fraction=0.35, max_side_fraction=0.5)
    spec = masks_lib.MaskSpec(**fields)
  summary = inpaint_files.inpaint_files(
      models=models, input_path=_INPUT.value, output_dir=_OUTPUT_DIR.value,
      mask_path="" if _MASK_KIND.value else _MASKS.value, mask_spec=spec, mode=_MODE.value,
      iterations=_ITERATIONS.value, refine_steps=_REFINE_STEPS.value, poisson_blend=_POISSON.value,
      batch_size=_BATCH_SIZE.value, seed=_SEED.value)
  print(json.dumps({k: v for k, v in summary.items() if k != "outputs"}))


if __name__ == "__main__":
  _main.run(main)
