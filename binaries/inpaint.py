r"""Inpaint a folder of images (or one image) with masks; write results and a side-by-side grid.

  python -m binaries.inpaint                      # bundled Fashion-MNIST model on the bundled samples
  python -m binaries.inpaint --input=photos/ --masks=masks/ --output_dir=out/ --mode=hybrid
  python -m binaries.inpaint --input=img.png --mask_kind=ratio --hole_ratio=0.4

Masks: PNG, white = hole, matched to images by relative path (cat.jpg <-> cat.png), or one
mask for all; or generated with --mask_kind (seeded). Images of another size than the model
are resized for the model; the known pixels are pasted back at full resolution (Eq. 8).
Modes: single (Eq. 8, one pass), iterative (Yeh et al., Eq. 2), hybrid (iterative from P's z).

Video (--video, §4.3 / §6.4): clips instead of images; z per frame from a sequence prior over
sliding windows (M_{z+L}) or from P frame by frame (M_z); see pgi_tf/inference/video.py.
  python -m binaries.inpaint --video --input=clips/ --masks=clip_masks/ --output_dir=out/
  python -m binaries.inpaint --video --input=clip.mp4 --mask_kind=rectangle --mask_motion=moving \
      --sequence_prior=runs/fmnist32_seq/export/sequence_prior --window=8 --overlap=4
--input: a folder of clips (sub-folders of frames, video files) or one clip; --masks: a folder with
one folder of mask PNGs per clip (same names as the frames), or '' with --mask_kind=rectangle.
Writes <clip>/<frame>.png, <clip>/side_by_side.gif (input | output | ground truth) and results.json.
"""

from binaries import _main  # noqa: F401

import os

from absl import flags

from binaries import _model_flags
from pgi_tf.inference import backends
from pgi_tf.inference import folders
from pgi_tf import structural
from pgi_tf.data import masks as masks_lib
from pgi_tf.data import sequences
from pgi_tf.errors import InputError
from pgi_tf.inference import video as video_inference

_LABEL = flags.DEFINE_string("label", "auto", "Class-conditional BigGAN: a class index for every image, or auto "
                             "(predicted from each masked image by --class_predictor, §6.3.3).")
_TRUNCATION = flags.DEFINE_float("truncation", None, "BigGAN without a P (--mode=iterative): truncation t.")
_INPUT = flags.DEFINE_string("input", "hub_modules/samples/images", "Image file or folder (recursive).")
_MASKS = flags.DEFINE_string("masks", "hub_modules/samples/masks", "Mask PNG or folder; '' with --mask_kind.")
_MASK_KIND = flags.DEFINE_enum("mask_kind", None, list(masks_lib.MASK_KINDS[:-1]), "Generate masks instead.")
_HOLE_RATIO = flags.DEFINE_float("hole_ratio", 0.25, "For --mask_kind=ratio (and central).")
flags.register_validator("hole_ratio", lambda v: 0 < v < 1, "must be in (0, 1)")
_HOLE_SIZE = flags.DEFINE_integer("hole_size", 0, "For --mask_kind=square/central: side in px (0: half).", lower_bound=0)
_OUTPUT_DIR = flags.DEFINE_string("output_dir", "runs/inpaint", "Where results go.")
_STRUCTURAL_PRIOR = flags.DEFINE_enum(
    "structural_prior", "auto", ["auto", *structural.NAMES],
    "M_z (none) or M_{z+S} (§4.2) with this structural prior; must match the model's. auto: the "
    "model's own (bundled M_z when --model_dir is not given).")
_MODE = flags.DEFINE_enum("mode", "single", ["single", "iterative", "hybrid"], "How z is found.")
_ITERATIONS = flags.DEFINE_integer("iterations", None, "Iterative mode steps (default 1000, 1500 at >= 128 px).", lower_bound=1)
_REFINE_STEPS = flags.DEFINE_integer("refine_steps", 100, "Hybrid mode: steps of search from P's z.", lower_bound=0)
_POISSON = flags.DEFINE_boolean("poisson_blend", False, "Poisson-blend G(z) into the hole (Yeh et al.).")
_BATCH_SIZE = flags.DEFINE_integer("batch_size", 16, "Images per batch.", lower_bound=1)
_NUM_CANDIDATES = flags.DEFINE_integer(
    "num_candidates", 1, "--mode=single with a K-candidate P (hub_modules/fashion_mnist32/prior_predictor): also "
    "write the best N of its K alternatives per image, best first (candidates/, candidates.png).", lower_bound=1)
_BACKEND = flags.DEFINE_enum(
    "backend", "auto", list(backends.BACKENDS), "What runs the one pass (--mode=single): tf (tf.function), xla, "
    "tflite (the exported .tflite, XNNPACK; exported once into $PGI_TF_CACHE unless the model ships one), or auto: "
    "the measured winner for --batch_size (pgi_tf/inference/backends.py). Recorded in results.json.")
_GRAYSCALE = flags.DEFINE_boolean(
    "grayscale", False, "Grey (1-channel) models: convert colour inputs to grey first (PIL's L, ITU-R 601 luma); "
    "the outputs are grey. Without it a colour image into a grey model is refused.")
_SEED = flags.DEFINE_integer("seed", 0, "Seed for generated masks and the iterative start.", lower_bound=0)
_VIDEO = flags.DEFINE_boolean(
    "video", False, "Inpaint clips: --input is a folder of clips (frame folders, videos) or one clip, "
    "--masks a folder of per-clip mask folders or '' with --mask_kind=rectangle.")
_SEQUENCE_PRIOR = flags.DEFINE_string(
    "sequence_prior", "auto", "--video: exported sequence prior (M_{z+L}, e.g. <workdir>/export/sequence_prior); "
    "auto = the model directory's sequence_prior/ when it has one (the bundled models do), else per frame; "
    "'' = per-frame M_z with the model directory's P.")
_WINDOW = flags.DEFINE_integer("window", None, "--video: frames per window (default: the sequence prior's "
                               "training window; 8 per frame).", lower_bound=1)
_OVERLAP = flags.DEFINE_integer("overlap", None, "--video: frames shared by consecutive windows, the LSTM's "
                                "burn-in (default window // 2; 0 per frame).", lower_bound=0)
_LATENT_SMOOTHING = flags.DEFINE_integer(
    "latent_smoothing", 0, "--video: smooth each clip's z this many times along time ([1/4, 1/2, 1/4]) and draw G "
    "again (a temporal-consistency option beyond the paper; see RESULTS.md, Table 3 with the clip-frame G).",
    lower_bound=0)
_MASK_MOTION = flags.DEFINE_enum("mask_motion", "fixed", list(sequences.MASK_MOTIONS),
                                 "--video --mask_kind=rectangle: the same hole in every frame, or drifting.")
_GROUND_TRUTH = flags.DEFINE_boolean(
    "ground_truth", True, "--video: the input frames are clean (holes only in the masks), so the GIF shows "
    "them as ground truth; --noground_truth for frames that are already damaged.")


def video_main():
  if _MODE.value != "single":
    raise InputError(f"--mode={_MODE.value}: --video inpaints in one pass (z from the sequence prior or from "
                     "P per frame); use --mode=single")
  if flags.FLAGS["input"].using_default_value:
    raise InputError("--input: --video needs a folder of clips or one clip (frame folder or video file)")
  if _MASK_KIND.value not in (None, "rectangle"):
    raise InputError(f"--mask_kind={_MASK_KIND.value}: --video generates only rectangle masks (§6.4)")
  mask_path = "" if (_MASK_KIND.value or flags.FLAGS["masks"].using_default_value) else _MASKS.value
  model_dir = _model_flags.model_dir(_STRUCTURAL_PRIOR.value)
  sequence_prior_path = _SEQUENCE_PRIOR.value
  if sequence_prior_path == "auto":
    bundled = os.path.join(model_dir, "sequence_prior") if model_dir else ""
    sequence_prior_path = bundled if bundled and os.path.isdir(bundled) else ""
  models = _model_flags.load_models(structural_prior=_STRUCTURAL_PRIOR.value, discriminator="none",
                                    need_prior_predictor=not sequence_prior_path)
  summary = video_inference.inpaint_clips(
      models=models, input_path=_INPUT.value, output_dir=_OUTPUT_DIR.value, mask_path=mask_path,
      mask_motion=_MASK_MOTION.value if _MASK_KIND.value else None, sequence_prior_path=sequence_prior_path,
      window=_WINDOW.value, overlap=_OVERLAP.value, batch_size=_BATCH_SIZE.value, seed=_SEED.value,
      ground_truth=_GROUND_TRUTH.value, latent_smoothing=_LATENT_SMOOTHING.value)
  print(_main.json_line({k: v for k, v in summary.items() if k != "outputs"}))


def main(argv):
  del argv
  if _VIDEO.value:
    return video_main()
  need_p = _MODE.value != "iterative"
  models = _model_flags.load_models(structural_prior=_STRUCTURAL_PRIOR.value, need_prior_predictor=need_p,
                                    truncation=_TRUNCATION.value)
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
  summary = folders.inpaint_files(
      models=models, input_path=_INPUT.value, output_dir=_OUTPUT_DIR.value,
      mask_path="" if _MASK_KIND.value else _MASKS.value, mask_spec=spec, mode=_MODE.value,
      iterations=_ITERATIONS.value, refine_steps=_REFINE_STEPS.value, poisson_blend=_POISSON.value,
      batch_size=_BATCH_SIZE.value, seed=_SEED.value, label=_LABEL.value, num_candidates=_NUM_CANDIDATES.value,
      grayscale=_GRAYSCALE.value, backend=_BACKEND.value)
  print(_main.json_line({k: v for k, v in summary.items() if k not in ("outputs", "labels", "candidates", "settings")}))


if __name__ == "__main__":
  _main.run(main)
