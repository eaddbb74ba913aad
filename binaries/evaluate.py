r"""Table 1 for a model: PSNR, SSIM, L1, Fréchet distance for single / iterative / hybrid and
OpenCV's Telea and Navier-Stokes, at the Table 1 hole ratios, on held-out images.

  python -m binaries.evaluate                                   # bundled Fashion-MNIST model, test split
  python -m binaries.evaluate --num_images=200 --iterations=300 --output_dir=runs/eval_quick

Writes <output_dir>/table.md, results.json and grid.png (per hole ratio: masked | methods | original).

--sequences: Table 3's ablation on held-out moving Fashion-MNIST clips instead (pgi_tf/evaluation/video.py):
  python -m binaries.evaluate --sequences --sequence_models=M_{z+L}=runs/fmnist32_seq/export/sequence_prior \
      --num_clips=200 --num_frames=16 --mask_motion=fixed --output_dir=runs/eval_sequences
One row per model: M_z (P of --model_dir per frame) and each --sequence_models entry; per-frame PSNR,
flicker and, with --video_fd_extractor, a video Fréchet distance. Writes table.md, results.json,
examples.png and examples.gif (one clip: input | each model | ground truth).
"""

from binaries import _main  # noqa: F401


from absl import flags

from binaries import _model_flags
from pgi_tf import files
from pgi_tf import hub
from pgi_tf.data import datasets
from pgi_tf.errors import InputError
from pgi_tf.evaluation import images as image_evaluation
from pgi_tf.evaluation import landmarks as landmark_evaluation
from pgi_tf.evaluation import provenance
from pgi_tf.evaluation import tables
from pgi_tf.evaluation import video as video_evaluation
from pgi_tf.metrics import extractors
from pgi_tf.metrics import temporal

_LABEL_ROWS = flags.DEFINE_list(
    "label_rows", ["actual", "predicted"], "Class-conditional BigGAN: rows with the images' actual labels and/or "
    "the class predictor's labels (Table 2).")
_HOLE_SIZES = flags.DEFINE_list(
    "hole_sizes", [], "Table 2 columns instead of --hole_ratios: square holes of these sides in px (e.g. 96,128).")
_MASK_KIND = flags.DEFINE_enum("mask_kind", "square", ["square", "central"],
                               "--hole_sizes: holes at random places (CelebA-HQ) or central (ImageNet, §6.3).")
_SOURCE = flags.DEFINE_string("source", "fashion_mnist", "Dataset source (pgi_tf.data.datasets.SOURCES).")
_DATA_DIR = flags.DEFINE_string("data_dir", "", "Dataset directory ('' = the source's default).")
_SPLIT = flags.DEFINE_string("split", "test", "Held-out split.")
_NUM_IMAGES = flags.DEFINE_integer("num_images", 1000, "Held-out images (the first N of the split).", lower_bound=1)
_HOLE_RATIOS = flags.DEFINE_list("hole_ratios", ["0.1", "0.4"], "Table 1 hole-to-image ratios.")
_METHODS = flags.DEFINE_list(
    "methods", list(image_evaluation.DEFAULT_METHODS), f"Methods to compare, of {', '.join(image_evaluation.METHODS)} "
    "(+poisson: Poisson-blended, Yeh et al.'s post-processing).")
_FD_EXTRACTOR = flags.DEFINE_string(
    "fd_extractor", "savedmodel:hub_modules/fashion_mnist32/fid_classifier",
    "Feature extractor for the Fréchet distance: savedmodel:<path>, inception[:<handle or path>], or ''.")
_PRIOR_PREDICTORS = flags.DEFINE_list(
    "prior_predictors", [], "More P's for the same G, as name=<dir> (e.g. candidates=runs/fmnist32_prior_candidates/"
    "export/prior_predictor): each adds rows '<method> [name]' for the methods that use P (single, hybrid).")
_REGRESSION_INPAINTER = flags.DEFINE_string(
    "regression_inpainter", "hub_modules/fashion_mnist32/regression_inpainter",
    "The regression peer's module (binaries/train_regression_inpainter.py), used by --methods=regression.")
_ITERATIONS = flags.DEFINE_integer("iterations", None, "Iterative steps (default 1000; 1500 at >= 128 px).", lower_bound=1)
_REFINE_STEPS = flags.DEFINE_integer("refine_steps", 100, "Hybrid: steps from P's z.", lower_bound=0)
_BATCH_SIZE = flags.DEFINE_integer("batch_size", 100, "Batch size.", lower_bound=1)
_SEED = flags.DEFINE_integer("seed", 0, "Seed of the evaluation masks.", lower_bound=0)
_STRUCTURAL_PRIOR = flags.DEFINE_list(
    "structural_prior", ["auto"], "One model per entry (none = M_z, silhouette = M_{z+S}, auto = the model's "
    "own): none,silhouette compares the bundled M_z and M_{z+S} on the same images and masks.")
_LANDMARK_CURVES = flags.DEFINE_boolean(
    "landmark_curves", False, "Fig. 4 instead of Table 1: cumulative RLE curves of the face keypoint refiner "
    "(held-out shapes with 70% of points hidden vs the mean-shape fill; the astronaut with half the face "
    "masked, raw dlib vs refined) -> landmark_curves.{json,png}.")
_LANDMARK_REFINER = flags.DEFINE_string("landmark_refiner", "hub_modules/face_landmarks/keypoint_refiner",
                                        "Face keypoint refiner for --landmark_curves.")
_OUTPUT_DIR = flags.DEFINE_string("output_dir", "runs/evaluate", "Where table.md, results.json, grid.png go.")
_SEQUENCES = flags.DEFINE_boolean(
    "sequences", False, "Table 3 instead of Table 1: M_z (P per frame) vs grouped priors (--sequence_models) on "
    "held-out moving Fashion-MNIST clips (--split, --data_dir) -> table.md, results.json, examples.{png,gif}.")
_SEQUENCE_MODELS = flags.DEFINE_list(
    "sequence_models", [], "--sequences: exported sequence priors for the model's G, as name=<dir> (e.g. "
    "M_{z+L}=runs/fmnist32_seq/export/sequence_prior) or <dir> (labelled from its metadata).")
_PER_FRAME_ROW = flags.DEFINE_boolean("per_frame_row", True, "--sequences: include M_z, the model's P per frame.")
_LATENT_SMOOTHING = flags.DEFINE_list(
    "latent_smoothing", [], "--sequences: for each k given (e.g. 1,2), every row again with each clip's z smoothed "
    "k times along time ([1/4, 1/2, 1/4]) and G drawn again: a temporal-consistency option beyond the paper.")
_NUM_CLIPS = flags.DEFINE_integer("num_clips", 50, "--sequences: held-out clips.", lower_bound=1)
_NUM_FRAMES = flags.DEFINE_integer("num_frames", 16, "--sequences: frames per clip (FVD uses 16).", lower_bound=2)
_MASK_MOTION = flags.DEFINE_enum("mask_motion", "fixed", ["fixed", "moving"],
                                 "--sequences: §6.4 rectangles, the same in every frame or drifting.")
_WINDOW = flags.DEFINE_integer("window", None, "--sequences: frames per window (default: each sequence prior's "
                               "training window; 8 per frame).", lower_bound=1)
_OVERLAP = flags.DEFINE_integer("overlap", None, "--sequences: frames shared by consecutive windows (default "
                                "window // 2 for the LSTM, 0 per frame).", lower_bound=0)
_VIDEO_FD_EXTRACTOR = flags.DEFINE_string(
    "video_fd_extractor", "", "--sequences: video feature extractor for a Fréchet distance: i3d, i3d:<handle or "
    "dir>, savedmodel:<dir>; '' = skip (the I3D weights of the paper's video-FID are not available offline).")


_RUN = provenance.start()  # command and git revision of the code that runs


def landmark_curves_main() -> None:
  refiner = hub.load_keypoint_refiner(_LANDMARK_REFINER.value, flag="--landmark_refiner")
  result = landmark_evaluation.landmark_curves(refiner=refiner, seed=_SEED.value)
  result["provenance"] = _RUN.record()
  paths = landmark_evaluation.write_curves(result, _OUTPUT_DIR.value)
  summary = {"held_out_mean_rle": result["held_out"]["mean_rle"],
             "astronaut_mean_rle": result["astronaut"]["mean_rle"], "files": paths}
  print(_main.json_line(summary, indent=2))


def sequences_main() -> None:
  kinds = _STRUCTURAL_PRIOR.value
  if len(kinds) > 1:
    raise InputError(f"--structural_prior={','.join(kinds)}: --sequences evaluates one model directory")
  models = _model_flags.load_models(structural_prior=kinds[0], discriminator="none", need_prior_predictor=False)
  if models.channels != 1:
    raise InputError(f"--model_dir={_model_flags.MODEL_DIR.value}: the model has {models.channels} channels; moving "
                     "Fashion-MNIST clips are grey")
  sequence_models = video_evaluation.load_sequence_models(
      models=models, entries=_SEQUENCE_MODELS.value, window=_WINDOW.value, overlap=_OVERLAP.value,
      per_frame_row=_PER_FRAME_ROW.value,
      latent_smoothing=_main.number_list("latent_smoothing", _LATENT_SMOOTHING.value, int, low=1, high=64)
      if _LATENT_SMOOTHING.value else [])
  extractor = None
  if _VIDEO_FD_EXTRACTOR.value:
    extractor = temporal.load_video_extractor(_VIDEO_FD_EXTRACTOR.value, flag="--video_fd_extractor")
  clips, masks = video_evaluation.evaluation_clips(
      num_clips=_NUM_CLIPS.value, num_frames=_NUM_FRAMES.value, resolution=models.resolution, seed=_SEED.value,
      motion=_MASK_MOTION.value, split=_SPLIT.value, data_dir=_DATA_DIR.value or None)
  total = sum(len(clips) * m.inpainter.num_windows(clips.shape[1]) for m in sequence_models)
  bar = files.progress_bar(total=total, initial=0, description="evaluate sequences")
  rows, outputs = video_evaluation.evaluate_sequences(
      sequence_models=sequence_models, clips=clips, masks=masks, extractor=extractor,
      batch_size=_BATCH_SIZE.value, progress=bar)
  bar.close()
  notes = tables.sequence_notes(rows=rows, clips=clips, masks=masks, models=models, split=_SPLIT.value,
                                seed=_SEED.value, mask_motion=_MASK_MOTION.value)
  paths = video_evaluation.write_report(_OUTPUT_DIR.value, rows=rows, notes=notes, clips=clips, masks=masks,
                                        outputs=outputs, title="Sequence inpainting ablation (Table 3 layout)",
                                        record={"split": _SPLIT.value, "num_clips": len(clips), "seed": _SEED.value,
                                                "mask_motion": _MASK_MOTION.value,
                                                "provenance": _RUN.record()})
  print(open(paths["table.md"]).read())


def main(argv):
  del argv
  files.check_output_dir(_OUTPUT_DIR.value, flag="--output_dir")
  if _LANDMARK_CURVES.value:
    return landmark_curves_main()
  if _SEQUENCES.value:
    return sequences_main()
  try:
    ratios = [float(r) for r in _HOLE_RATIOS.value]
    if _HOLE_SIZES.value:
      ratios = [image_evaluation.hole_column(int(v)) for v in _HOLE_SIZES.value]
    if not _HOLE_SIZES.value and not all(0 < r < 1 for r in ratios):
      raise ValueError
  except ValueError:
    flag = "--hole_sizes" if _HOLE_SIZES.value else "--hole_ratios"
    values = _HOLE_SIZES.value or _HOLE_RATIOS.value
    raise InputError(f"{flag}={','.join(values)}: must be ratios in (0, 1) like 0.1,0.4, or sides in px like 96,128") from None
  kinds = _STRUCTURAL_PRIOR.value
  if len(kinds) > 1 and (_model_flags.MODEL_DIR.value or _model_flags.GENERATOR.value
                         or _model_flags.PRIOR_PREDICTOR.value):
    raise InputError(f"--structural_prior={','.join(kinds)}: several priors use the bundled models; "
                     "drop --model_dir/--generator/--prior_predictor or give one prior")
  needs_p = any(image_evaluation.base_method(m) in ("single", "hybrid") for m in _METHODS.value)
  all_models = [_model_flags.load_models(structural_prior=kind, need_prior_predictor=needs_p) for kind in kinds]
  models = all_models[0]
  for other in all_models[1:]:
    if (other.resolution, other.channels) != (models.resolution, models.channels):
      raise InputError(f"--structural_prior={','.join(kinds)}: the models differ in resolution or channels")
  variants = []
  for entry in _PRIOR_PREDICTORS.value:
    name, separator, path = entry.partition("=")
    if not separator or not name or not path:
      raise InputError(f"--prior_predictors={entry}: give name=<dir of an exported P>")
    variants.append((name, _model_flags.load_models(structural_prior=kinds[0], need_prior_predictor=True,
                                                    prior_predictor=path)))
  peers = {}
  if "regression" in _METHODS.value:
    regression = hub.load_regression_inpainter(_REGRESSION_INPAINTER.value, flag="--regression_inpainter")
    if (regression.resolution, regression.channels) != (models.resolution, models.channels):
      raise InputError(f"--regression_inpainter={_REGRESSION_INPAINTER.value}: {regression.resolution} px, "
                       f"{regression.channels} channels; the model has {models.resolution} px, {models.channels}")
    peers["regression"] = regression
  label_rows = tables.check_label_rows(models, _LABEL_ROWS.value)
  extractor = extractors.load_extractor(_FD_EXTRACTOR.value) if _FD_EXTRACTOR.value else None
  dataset = datasets.make_image_dataset(
      source=_SOURCE.value, data_dir=_DATA_DIR.value or None, split=_SPLIT.value,
      resolution=models.resolution, channels=models.channels, batch_size=_NUM_IMAGES.value,
      shuffle=False, repeat=False, drop_remainder=False, with_labels=bool(label_rows))
  batch = next(iter(dataset))
  images, labels = (batch[0].numpy(), batch[1].numpy()) if label_rows else (batch.numpy(), None)
  print(tables.image_table(
      all_models=all_models, several_priors=len(kinds) > 1, images=images, labels=labels, label_rows=label_rows,
      ratios=ratios, methods=_METHODS.value, extractor=extractor, batch_size=_BATCH_SIZE.value,
      iterations=_ITERATIONS.value, refine_steps=_REFINE_STEPS.value, seed=_SEED.value, mask_kind=_MASK_KIND.value,
      hole_sizes=bool(_HOLE_SIZES.value), source=_SOURCE.value, split=_SPLIT.value, output_dir=_OUTPUT_DIR.value,
      run=_RUN, extra_prior_predictors=variants, peers=peers))


if __name__ == "__main__":
  _main.run(main)
