"""One image through the model, exactly as `binaries/inpaint.py` (`pgi_tf.inference.folders`) does it.

The same steps in the same order, so the page's PNG equals the CLI's for the same files
(tests/demo/test_demo_page.py compares them bit for bit):
  read the image (`images.load_image`; with grayscale, colour -> PIL "L") and the mask
  (`masks.load_mask_png`, white = hole) -> [-1, 1] -> resize to the model's square resolution
  (`resampling`: area; any hole pixel -> hole) -> `Inpainter.inpaint` at batch 1 with seed + 0 ->
  G(ẑ) upsampled (bicubic) to the image's size -> Eq. 8 at full resolution, known pixels copied
  from the file's bytes.
The steps are `folders`' own public functions (read_image, model_inputs, full_resolution_result),
so the two cannot drift; the CLI comparison in the tests checks it.
The networks are loaded once and the Inpainter (its compiled tf.functions) lives as long as the
page, so the time shown is the inference's, not tracing's (`warm_up`).
"""

from __future__ import annotations

import dataclasses
import threading
import time

import numpy as np

from pgi_tf import visualize
from pgi_tf.data import images as images_lib
from pgi_tf.data import masks as masks_lib
from pgi_tf.errors import InputError
from pgi_tf.inference import domain
from pgi_tf.inference import folders
from pgi_tf.inference import inpainting
from pgi_tf.inference import loading


@dataclasses.dataclass(frozen=True)
class DemoMode:
  """A choice on the page: which `Inpainter.inpaint` mode it runs and what the model must have."""
  inpaint_mode: str
  title: str
  needs_prior_predictor: bool
  needs_candidate_heads: bool = False


# The page's modes (a registry: a new one is one entry; the page lists what /api/info returns).
MODES = {
    "single": DemoMode("single", "single: one pass, Î = I_d + M ⊙ G(P(I_d)) (Eq. 8)", True),
    "hybrid": DemoMode("hybrid", "hybrid: Yeh et al.'s search from P's z", True),
    "candidates": DemoMode("single", "K candidates: the best of P's K heads + the N best", True,
                           needs_candidate_heads=True),
    "iterative": DemoMode("iterative", "iterative: Yeh et al.'s search (Eq. 2)", False),
}


class ImageTooLarge(InputError):
  """An image over the page's pixel cap (the server answers 413, not 400)."""


@dataclasses.dataclass
class DemoResult:
  """uint8 images (H x W x C) and timings of one request."""
  inpainted: np.ndarray   # full resolution, Eq. 8: what `binaries/inpaint.py` writes as <name>.png
  generated: np.ndarray   # G(ẑ) at the model's resolution
  candidates: np.ndarray | None  # the N best alternatives side by side (the CLI's candidates/<name>.png)
  inference_ms: float     # the Inpainter call alone (what the CLI's ms_per_image measures)
  mode: str
  iterations: int | None  # search steps run (iterative, hybrid)
  out_of_domain: str = ""  # the inpaint command's warning (domain.py), "" when the input looks in-domain


class DemoModel:
  """The loaded networks and one long-lived Inpainter; `inpaint_files` runs one request.

  Requests are served one at a time (a lock): two cores, and the time shown stays honest."""

  def __init__(self, models: loading.Models, *, label: str = "auto", warm_up: bool = True):
    self.models = models
    self.fixed_label = loading.parse_label(label, models)
    self.inpainter = loading.make_inpainter(models)
    self.domain_check = domain.load(models.prior_predictor.handle) if models.prior_predictor is not None else None
    self._lock = threading.Lock()
    if warm_up:
      self._warm_up()

  @property
  def candidate_heads(self) -> int:
    p = self.models.prior_predictor
    return int(((p.metadata or {}) if p is not None else {}).get("num_candidates", 1))

  def availability(self, name: str) -> str:
    """"" when the mode can run with this model, else the note the page shows next to it."""
    mode = MODES[name]
    if mode.needs_prior_predictor and self.models.prior_predictor is None:
      return "needs a prior predictor P (--model_dir or --prior_predictor)"
    if mode.needs_candidate_heads and self.candidate_heads < 2:
      return (f"this P has {self.candidate_heads} head; needs a K-candidate P "
              "(trained with configs/fashion_mnist32_prior_candidates.py)")
    return ""

  def info(self) -> dict:
    """What the page shows and offers: the model and its modes."""
    record = self.models.record()
    return {"resolution": self.models.resolution, "channels": self.models.channels,
            "candidate_heads": self.candidate_heads,
            "default_iterations": inpainting.default_iterations(self.models.resolution),
            "generator": record["generator_path"], "structural_prior": record["structural_prior"],
            "modes": [{"name": name, "title": mode.title, "disabled": self.availability(name)}
                      for name, mode in MODES.items()]}

  def _warm_up(self) -> None:
    """Traces each compiled mode once (one step of search), so the first request is timed fairly."""
    r = self.models.resolution
    images = np.zeros([1, r, r, self.models.channels], np.float32)
    masks = np.zeros([1, r, r, 1], np.float32)
    masks[:, r // 4:r - r // 4, r // 4:r - r // 4] = 1.0
    labels = None if self.fixed_label is None else np.full([1], self.fixed_label, np.int32)
    modes = ["iterative"] + (["single"] if self.models.prior_predictor is not None else [])
    for mode in modes:
      self.inpainter.inpaint(images, masks, mode=mode, iterations=1, labels=labels)

  def check_request(self, *, mode: str, num_candidates: int, grayscale: bool) -> None:
    if mode not in MODES:
      raise InputError(f"mode={mode}: choose one of {', '.join(MODES)}")
    note = self.availability(mode)
    if note:
      raise InputError(f"mode={mode}: {note}")
    if mode == "candidates" and not 2 <= num_candidates <= self.candidate_heads:
      raise InputError(f"num_candidates={num_candidates}: choose 2 to {self.candidate_heads} (this P's heads)")
    if grayscale and self.models.channels != 1:
      raise InputError(f"grayscale: the model has {self.models.channels} channels; it converts colour inputs "
                       "for grey (1-channel) models only")

  def inpaint_files(self, image_path: str, mask_path: str, *, mode: str = "single", num_candidates: int = 1,
                    iterations: int | None = None, refine_steps: int = 100, seed: int = 0,
                    grayscale: bool = False, max_pixels: int | None = None) -> DemoResult:
    """Inpaints one image file with one mask PNG (white = hole). InputError names the file."""
    self.check_request(mode=mode, num_candidates=num_candidates, grayscale=grayscale)
    height, width = images_lib.check_image_file(image_path, channels=None if grayscale else self.models.channels)
    if max_pixels is not None and height * width > max_pixels:
      raise ImageTooLarge(f"{image_path}: {width}x{height} is {height * width:,} pixels, the limit is {max_pixels:,}")
    mask = masks_lib.load_mask_png(mask_path, height=height, width=width)
    masks_lib.validate_mask(mask, name=mask_path)
    original = folders.read_image(image_path, channels=self.models.channels, grayscale=grayscale)
    image = images_lib.to_model_range(original).astype(np.float32)
    r = self.models.resolution
    model_image, model_mask = folders.model_inputs(image, mask, r)
    labels = None if self.fixed_label is None else np.full([1], self.fixed_label, np.int32)
    spec = MODES[mode]
    with self._lock:
      start = time.perf_counter()
      out = self.inpainter.inpaint(model_image[None], model_mask[None], mode=spec.inpaint_mode,
                                   iterations=iterations, refine_steps=refine_steps, seed=seed, labels=labels)
      generated = out["generated"].numpy()[0]
      seconds = time.perf_counter() - start
    result_u8, _ = folders.full_resolution_result(original=original, image=image, mask=mask, fill=generated)
    warning = ""
    if self.domain_check is not None and spec.inpaint_mode != "iterative":
      score = float(domain.known_pixel_error(model_image[None], model_mask[None], generated[None])[0])
      if self.domain_check.flag(score):
        warning = self.domain_check.warning(score)
    strip = None
    if mode == "candidates":
      alternatives = out["candidates"].numpy()[0, :num_candidates]
      strip = visualize.to_uint8(np.concatenate(list(alternatives), axis=1))
    steps = {"iterative": iterations if iterations is not None else self.inpainter.iterations_for(r),
             "hybrid": refine_steps}.get(spec.inpaint_mode)
    return DemoResult(inpainted=result_u8, generated=visualize.to_uint8(generated), candidates=strip,
                      inference_ms=1000.0 * seconds, mode=mode, iterations=steps, out_of_domain=warning)
