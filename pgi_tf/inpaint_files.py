"""Folder in, folder out: what binaries/inpaint.py does, as a library.

Conventions (as in LaMa and DeepFill):
  * masks are PNG files, white (>= 128 of 255) = hole, black = known; a mask is matched to
    its image by relative path without extension (`cat.jpg` <-> `cat.png`), or one mask
    file serves every image;
  * an image of another size than the model's is resized (area) to the model's square
    resolution, inpainted there, the generated pixels upsampled (bicubic) back, and
    Eq. 8 applied at full resolution with the full-resolution mask, so every known pixel
    of the output equals the input exactly;
  * outputs: <output_dir>/<relative path>.png (the inpainted image), and grid.png (one row
    per image: masked input | inpainted | G(ẑ) ), and results.json.
"""

from __future__ import annotations

import dataclasses
import json
import os
import time

import numpy as np
import tensorflow as tf

from pgi_tf import generators
from pgi_tf import hub
from pgi_tf import inpaint
from pgi_tf import photo_realism
from pgi_tf import visualize
from pgi_tf.data import images as images_lib
from pgi_tf.data import masks as masks_lib
from pgi_tf.errors import InputError
from pgi_tf.train import runtime


@dataclasses.dataclass
class Models:
  """The frozen networks of one model directory and their metadata."""
  generator: object  # a generator adapter (`pgi_tf.generators`): z (+ condition) -> [-1, 1]
  discriminator: object | None
  prior_predictor: hub.HubModuleLayer | None
  metadata: dict  # the resolved generator's (resolution, z prior, family, class_index, ...)
  structural_prior: object | None = None  # M_{z+S}: (I_d, M) -> S; None for M_z
  class_predictor: object | None = None  # class-conditional BigGAN: (I_d, M) -> logits (--label=auto)
  photo_realism: dict = dataclasses.field(default_factory=lambda: {"photo_realism": "off", "discriminator": "none"})

  @property
  def resolution(self) -> int:
    return self.metadata["resolution"]

  @property
  def channels(self) -> int:
    return self.metadata["channels"]

  @property
  def class_conditional(self) -> bool:
    return generators.class_conditional(self.metadata)

  def record(self) -> dict:
    """What every output's metadata says about the networks used."""
    return {"generator": self.metadata.get("generator", "ours"), "generator_path": self.generator.handle,
            "standin": bool(self.metadata.get("standin", False)), **self.photo_realism,
            "structural_prior": self.metadata.get("structural_prior", "none"),
            "class_conditional": self.class_conditional, "class_index": self.metadata.get("class_index"),
            "truncation": self.metadata.get("truncation")}


# The bundled model of each --structural_prior (M_z and M_{z+S} on Fashion-MNIST at 32 px).
BUNDLED_MODEL_DIRS = {"none": "hub_modules/fashion_mnist32",
                      "silhouette": "hub_modules/fashion_mnist32_silhouette"}


def default_model_dir(structural_prior: str) -> str:
  """--model_dir when none is given: the bundled model of the structural prior."""
  from pgi_tf.structural import priors
  if structural_prior == "auto":
    structural_prior = "none"
  priors.check_kind(structural_prior, flag="--structural_prior")
  if structural_prior not in BUNDLED_MODEL_DIRS:
    raise InputError(f"--structural_prior={structural_prior}: no bundled model (no face data set offline); "
                     "pass --model_dir of a model trained with it")
  return BUNDLED_MODEL_DIRS[structural_prior]


def load_models(*, model_dir: str = "", generator: str = "", discriminator: str = "",
                prior_predictor: str = "", need_prior_predictor: bool = True,
                structural_prior: str = "auto", keypoint_refiner: str = "", photo_realism_policy: str = "auto",
                class_predictor: str = "", truncation: float | None = None,
                class_index: int | None = None) -> Models:
  """Loads G (+ D, + P, + S, + the class predictor) from a model directory (generator/,
  discriminator/, prior_predictor/, keypoint_refiner/, class_predictor/) or explicit paths,
  which win.

  generator: a registry name (progan-128, biggan-256, ...), a TF-Hub handle or a module
    directory; default: model_dir/generator/, else the generator P was trained against (its
    metadata), so a train_prior export directory is a model directory too. G is resolved with
    the class_index / truncation / output_resolution P was trained with.
  discriminator / photo_realism_policy: `pgi_tf.photo_realism` ("none" turns D off).
  structural_prior: "auto" takes the model's (from G's metadata); "none" / "silhouette" must
    match it (a conditioned G cannot run without its prior, nor an M_z model with one).
  truncation, class_index: BigGAN without a P (iterative mode): how to build G.
  """
  def pick(explicit: str, name: str) -> str:
    if explicit:
      return explicit
    if model_dir:
      if not os.path.isdir(model_dir):
        raise InputError(f"--model_dir={model_dir}: no such directory")
      path = os.path.join(model_dir, name)
      return path if os.path.isdir(path) else ""
    return ""

  p_path = pick(prior_predictor, "prior_predictor")
  p_metadata = (hub.read_metadata(p_path) or {}) if p_path else {}
  generator_spec = pick(generator, "generator") or p_metadata.get("generator_path", "")
  if not generator_spec:
    raise InputError(f"--model_dir={model_dir}: has no generator/ (or pass --generator)")
  if p_metadata:  # G exactly as P was trained against it
    class_index, truncation = p_metadata.get("class_index"), p_metadata.get("truncation")
  g, g_metadata = generators.resolve_generator(
      generator_spec, class_index=class_index, truncation=truncation,
      output_resolution=p_metadata.get("output_resolution") or None)
  d, realism = photo_realism.load(photo_realism_policy, discriminator=pick(discriminator, "discriminator")
                                  if discriminator != "none" else "none", generator_metadata=g_metadata)
  p = None
  if p_path:
    p = hub.load_prior_predictor(p_path, generator_path=g.handle)
  elif need_prior_predictor:
    raise InputError(f"--model_dir={model_dir}: has no prior_predictor/ (or pass --prior_predictor); "
                     "--mode=iterative needs none")
  model_kind = g_metadata.get("structural_prior", "none")
  if structural_prior not in ("auto", model_kind):
    raise InputError(f"--structural_prior={structural_prior}: the model ({generator_spec}) is "
                     f"{'M_z (no structural prior)' if model_kind == 'none' else 'conditioned on ' + model_kind}")
  prior = None
  if model_kind != "none":
    from pgi_tf.structural import priors
    refiner_path = pick(keypoint_refiner, "keypoint_refiner") or (
        (p.metadata or {}).get("keypoint_refiner", "") if p is not None else "")
    prior = priors.load_structural_prior(model_kind, refiner_path=refiner_path,
                                         num_rays=g_metadata.get("num_rays", 0) or 16,
                                         upsample=g_metadata.get("landmark_upsample", 1))
  classifier = None
  classifier_path = pick(class_predictor, "class_predictor")
  if classifier_path:
    if not generators.class_conditional(g_metadata):
      raise InputError(f"--class_predictor={classifier_path}: {g_metadata.get('generator')} is not a "
                       "class-conditional generator")
    from pgi_tf.train import class_predictor as class_predictor_lib  # late: pulls in keras.applications
    classifier = class_predictor_lib.load_class_predictor(classifier_path, flag="--class_predictor")
    if classifier.num_classes != g_metadata["num_classes"] or classifier.resolution != g_metadata["resolution"]:
      raise InputError(f"--class_predictor={classifier_path}: predicts {classifier.num_classes} classes at "
                       f"{classifier.resolution} px; the generator has {g_metadata['num_classes']} at "
                       f"{g_metadata['resolution']} px")
  return Models(generator=g, discriminator=d, prior_predictor=p, metadata=dict(g_metadata),
                structural_prior=prior, class_predictor=classifier, photo_realism=realism)


def parse_label(label: str, models: Models, *, flag: str = "--label") -> int | None:
  """--label=auto|INT: None (predict from the masked image) or a checked class index."""
  if label in ("", "auto"):
    if models.class_conditional and models.class_predictor is None:
      raise InputError(f"{flag}=auto: {models.metadata.get('generator')} is class-conditional; pass "
                       "--class_predictor=PATH (binaries/train_class_predictor.py) or --label=INT")
    return None
  try:
    value = int(label)
  except ValueError:
    raise InputError(f"{flag}={label}: give auto or a class index") from None
  if not models.class_conditional:
    raise InputError(f"{flag}={label}: {models.metadata.get('generator')} is not class-conditional "
                     "(a BigGAN trained without --config.class_index)")
  return generators.check_label(value, models.metadata, flag=flag)


def make_inpainter(models: Models, **kwargs) -> inpaint.Inpainter:
  return inpaint.Inpainter(
      generator=models.generator, discriminator=models.discriminator,
      prior_predictor=models.prior_predictor, z_dim=models.metadata["z_dim"],
      z_distribution=models.metadata.get("z_distribution", "uniform"),
      z_support=models.metadata.get("z_support", (-1.0, 1.0)), structural_prior=models.structural_prior,
      num_classes=models.metadata.get("num_classes", 0) if models.class_conditional else 0,
      class_predictor=models.class_predictor, **kwargs)


# --------------------------------------------------------------------------- inputs

def list_inputs(path: str) -> tuple[str, list[str]]:
  """(root, relative image paths) for a folder or a single image file."""
  if os.path.isfile(path):
    return os.path.dirname(os.path.abspath(path)), [os.path.basename(path)]
  if not os.path.isdir(path):
    raise InputError(f"--input={path}: no such file or directory")
  files = images_lib.list_image_files(path)
  return path, [os.path.relpath(f, path) for f in files]


def match_masks(mask_path: str, relative_images: list[str]) -> list[str]:
  """One mask file per image (same relative path, .png), or a single mask for all."""
  if os.path.isfile(mask_path):
    return [mask_path] * len(relative_images)
  if not os.path.isdir(mask_path):
    raise InputError(f"--masks={mask_path}: no such file or directory")
  matched = []
  for rel in relative_images:
    candidate = os.path.join(mask_path, os.path.splitext(rel)[0] + ".png")
    if not os.path.isfile(candidate):
      raise InputError(f"--masks={mask_path}: no mask {os.path.splitext(rel)[0]}.png for image {rel}")
    matched.append(candidate)
  return matched


def _resize(array: np.ndarray, size: int, method: str) -> np.ndarray:
  return tf.image.resize(array[None], [size, size], method=method, antialias=(method == "area"))[0].numpy()


# --------------------------------------------------------------------------- run

def inpaint_files(*, models: Models, input_path: str, output_dir: str, mask_path: str = "",
                  mask_spec: masks_lib.MaskSpec | None = None, mode: str = "single",
                  iterations: int | None = None, refine_steps: int = 100, poisson_blend: bool = False,
                  batch_size: int = 16, seed: int = 0, grid_upscale: int = 4, label: str = "auto") -> dict:
  """Inpaints every image under input_path; writes results, grid.png and results.json.

  label: class-conditional BigGAN models: "auto" (the class predictor's class of each masked
  image) or a class index for every image."""
  if mode not in inpaint.MODES:
    raise InputError(f"--mode={mode}: choose one of {', '.join(inpaint.MODES)}")
  if mode in ("single", "hybrid") and models.prior_predictor is None:
    raise InputError(f"--mode={mode}: needs a prior predictor (--prior_predictor or --model_dir)")
  fixed_label = parse_label(label, models)
  root, relative = list_inputs(input_path)
  first_with_stem: dict[str, str] = {}
  for rel in relative:  # cat.jpg and cat.png would both be written to cat.png (and share cat.png's mask)
    stem = os.path.splitext(rel)[0]
    if stem in first_with_stem:
      raise InputError(f"--input={input_path}: {first_with_stem[stem]} and {rel} would both be "
                       f"written to {stem}.png; rename one of them")
    first_with_stem[stem] = rel
  resolution, channels = models.resolution, models.channels
  # Load and check everything before any output is written.
  originals = [images_lib.load_image(os.path.join(root, rel), channels=channels) for rel in relative]
  if mask_path:
    mask_files = match_masks(mask_path, relative)
    full_masks = [masks_lib.load_mask_png(m, height=o.shape[0], width=o.shape[1])
                  for m, o in zip(mask_files, originals)]
    names = mask_files
  elif mask_spec is not None:
    rng = np.random.default_rng(seed)
    full_masks = [masks_lib.sample_masks(mask_spec, count=1, height=o.shape[0], width=o.shape[1], rng=rng)[0]
                  for o in originals]
    names = [f"generated mask for {rel}" for rel in relative]
  else:
    raise InputError("--masks: give a mask file or folder, or --mask_kind to generate masks")
  for mask, name in zip(full_masks, names):
    masks_lib.validate_mask(mask, name=name)

  inpainter = make_inpainter(models)
  full_images = [images_lib.to_model_range(o).astype(np.float32) for o in originals]
  model_images = np.stack([img if img.shape[:2] == (resolution, resolution) else _resize(img, resolution, "area")
                           for img in full_images])
  model_masks = np.stack([m if m.shape[:2] == (resolution, resolution) else
                          (_resize(m, resolution, "area") > 0.0).astype(np.float32)  # any hole -> hole
                          for m in full_masks])
  generated = np.zeros_like(model_images)
  labels_used: list[int] = []
  bar = runtime.progress_bar(total=len(relative), initial=0, description=f"inpaint ({mode})")
  start = time.perf_counter()
  for first in range(0, len(relative), batch_size):
    chunk = slice(first, first + batch_size)
    chunk_labels = None if fixed_label is None else np.full([len(model_images[chunk])], fixed_label, np.int32)
    out = inpainter.inpaint(model_images[chunk], model_masks[chunk], mode=mode, iterations=iterations,
                            refine_steps=refine_steps, seed=seed + first, labels=chunk_labels)
    generated[chunk] = out["generated"].numpy()
    if "labels" in out:
      labels_used.extend(int(v) for v in np.asarray(out["labels"]))
    bar.update(len(model_images[chunk]))
  bar.close()
  seconds = time.perf_counter() - start
  if poisson_blend:
    generated = inpaint.poisson_blend(images=model_images, generated_images=generated, masks=model_masks)

  os.makedirs(output_dir, exist_ok=True)
  rows, written = [], []
  for index, rel in enumerate(relative):
    image, mask = full_images[index], full_masks[index]
    fill = generated[index]
    if fill.shape[:2] != image.shape[:2]:
      fill = tf.image.resize(fill[None], image.shape[:2], method="bicubic")[0].numpy()
    result = np.asarray(inpaint.compose(images=image[None], masks=mask[None], generated_images=fill[None]))[0]
    result_u8 = visualize.to_uint8(result)
    # Eq. 8 keeps known pixels; also copy them from the original bytes so no rounding can touch them.
    known = mask[..., 0] < 0.5
    result_u8[known] = originals[index][known]
    out_path = os.path.join(output_dir, os.path.splitext(rel)[0] + ".png")
    visualize.save_png(out_path, result_u8)
    written.append(out_path)
    masked_view = np.where(mask > 0.5, 1.0, image)  # holes shown white
    rows.append([masked_view, result, generated[index]])
  # Grid at model resolution when sizes differ, so rows line up.
  tiles = []
  for masked_view, result, gen in rows:
    for tile in (masked_view, result):
      tiles.append(tile if tile.shape[:2] == gen.shape[:2] else _resize(tile, resolution, "area"))
    tiles.append(gen)
  grid_path = os.path.join(output_dir, "grid.png")
  visualize.save_grid(grid_path, np.stack(tiles), columns=3, upscale=grid_upscale)
  summary = {"mode": mode, "images": len(relative), "seconds": round(seconds, 4),
             "ms_per_image": round(1000 * seconds / max(len(relative), 1), 3),
             "resolution": resolution, "outputs": written, "grid": grid_path,
             "poisson_blend": poisson_blend, **models.record()}
  if models.class_conditional:
    summary["label_source"] = "given" if fixed_label is not None else "predicted"
    summary["labels"] = dict(zip(relative, labels_used))
  tmp = os.path.join(output_dir, "results.json.tmp")
  with open(tmp, "w") as f:
    json.dump(summary, f, indent=2)
  os.replace(tmp, os.path.join(output_dir, "results.json"))
  return summary
