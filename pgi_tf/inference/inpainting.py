"""Inference: one pass (Eq. 8), Yeh et al.'s iterative search (Eq. 2), and the hybrid.

All three fill the hole with G(z) and keep the known pixels exactly:

  Î = I_d + M ⊙ G(ẑ)                     (Eq. 8; computed as (1 - M) ⊙ I + M ⊙ G(ẑ))

and differ only in how ẑ is found:

  single     ẑ = P(I_d, M)                                              one forward pass (§4.1)
             (a P with K candidate heads: the candidate with the lowest Eq. 4, beyond the paper)
  iterative  ẑ = argmin_z  L_yeh(z) = Σ W_yeh ⊙ |G(z) - I_d| + λ log(1 - D(G(z)))   (Eq. 2, §3.2, §6.3.1)
             from z ~ p_z, Adam, 1000 steps at 64 px / 1500 at 128, z kept in p_z's support
  hybrid     the iterative search started from P's ẑ for K steps (beyond the paper: a speed / fidelity dial)

Images are float32 NHWC in [-1, 1]; masks [N, H, W, 1] with 1 on the hole. Each mode is a
compiled tf.function with a batch-polymorphic signature, so it traces once per model.
"""

from __future__ import annotations

import dataclasses
from typing import Callable

import numpy as np
import tensorflow as tf

from pgi_tf import losses
from pgi_tf import structural
from pgi_tf.errors import InputError
from pgi_tf.generators import z_prior
from pgi_tf.inference import candidates
from pgi_tf.inference import conditioning

MODES = ("single", "iterative", "hybrid")
SEARCH_CHUNK = 50  # search steps per compiled call when a progress bar watches (20 updates in 1,000 steps)


def compose(*, images, masks, generated_images) -> tf.Tensor:
  """Eq. 8: Î = I_d + M ⊙ G(ẑ). Known pixels are copied bit for bit from `images`."""
  masks = tf.cast(masks, tf.float32)
  known = 1.0 - masks
  return known * tf.cast(images, tf.float32) + masks * tf.cast(generated_images, tf.float32)


def default_iterations(resolution: int) -> int:
  """Yeh et al.'s iteration counts used by the paper (§6.3.1): 1000 at 64 px, 1500 at 128."""
  return 1500 if resolution >= 128 else 1000


@dataclasses.dataclass(frozen=True)
class IterativeConfig:
  """Yeh et al.'s search (§3.2). λ = 0.003 and the 7x7 window are theirs."""
  iterations: int | None = None   # None: 1000 up to 64 px, 1500 at 128 px and above (§6.3.1)
  learning_rate: float = 0.01     # Adam step on z (Yeh et al.'s released code)
  beta1: float = 0.9
  beta2: float = 0.999
  epsilon: float = 1e-8
  lambda_perceptual: float = 0.003  # weight of log(1 - D(G(z))) (Yeh et al.)
  window: int = 7                 # importance-weighting window (Yeh et al.)


class Inpainter:
  """Inpaints with a frozen generator, an optional prior predictor P and an optional D.

  Args:
    generator: callable z -> images in [-1, 1] (a `pgi_tf.hub.HubModuleLayer`).
    z_dim: the generator's z size.
    prior_predictor: callable (masked_images, masks) -> z; needed by single and hybrid.
    discriminator: callable images -> logits; None turns the perceptual term off.
    z_distribution, z_support: the generator's prior, for sampling and projecting z.
    jit_compile: compile each mode with XLA.
    structural_prior: M_{z+S} (§4.2): callable (masked_images, masks) -> S [N, c] (a
      `pgi_tf.structural` prior: `silhouette.SilhouettePrior` or `landmarks.LandmarkPrior`); P then takes (I_d, M, S)
      and G, D take S. None: M_z. A LandmarkPrior runs dlib through tf.numpy_function, which
      XLA cannot compile: jit_compile is refused with it.
    num_classes: > 0 for a class-conditional BigGAN (§6.3.3): P takes (I_d, M, y) and G takes
      (z, y) with y the one-hot label; `inpaint(labels=...)` gives the labels, or
    class_predictor: callable (masked_images, masks) -> logits [N, num_classes] (the
      fine-tuned masked-image ResNet-101) predicts them when none are given (--label=auto).
  """

  def __init__(self, *, generator: Callable, z_dim: int, prior_predictor: Callable | None = None,
               discriminator: Callable | None = None, z_distribution: str = "uniform",
               z_support=(-1.0, 1.0), iterative: IterativeConfig = IterativeConfig(),
               jit_compile: bool = False, structural_prior: Callable | None = None,
               num_classes: int = 0, class_predictor: Callable | None = None):
    if jit_compile and structural_prior is not None and not structural.get_kind(structural_prior.kind).xla_compatible:
      raise InputError(f"--jit_compile: the {structural_prior.kind} prior runs outside the graph (dlib); XLA "
                       "cannot compile it")
    self.generator = generator
    self.structural_prior = structural_prior
    self.num_classes = int(num_classes)
    self.class_predictor = class_predictor
    self.prior_predictor = prior_predictor
    self.discriminator = discriminator
    self.z_dim = z_dim
    self.z_distribution = z_distribution
    self.z_support = tuple(float(v) for v in z_support)
    self.iterative_config = iterative
    # K candidates are ranked by Eq. 4 + λ1 Eq. 5 with the λ1 P was trained with (D permitting).
    self.selection_lambda_realism = float(
        (getattr(prior_predictor, "metadata", None) or {}).get("lambda_realism", 0.0) or 0.0)
    self._single = tf.function(self._single_impl, jit_compile=jit_compile or None, reduce_retracing=True)
    self._search = tf.function(self._search_impl, jit_compile=jit_compile or None, reduce_retracing=True)
    self._finish = tf.function(self._finish_impl, jit_compile=jit_compile or None, reduce_retracing=True)

  # ------------------------------------------------------------------ z prior
  def sample_z(self, batch_size, seed: int) -> tf.Tensor:
    """z ~ p_z: the iterative baseline's random start (§3.2)."""
    return z_prior.sample_z(batch_size=batch_size, z_dim=self.z_dim, z_distribution=self.z_distribution,
                            z_support=self.z_support, seed=seed)

  def project_z(self, z: tf.Tensor) -> tf.Tensor:
    """Keeps z in the prior's support (uniform and truncated priors are bounded)."""
    return z_prior.project_z(z, z_distribution=self.z_distribution, z_support=self.z_support)

  # ------------------------------------------------------------------ M_z or M_{z+S}
  def _conditions(self, masked_images, masks, class_conditions=None):
    if class_conditions is not None:
      return class_conditions
    return None if self.structural_prior is None else self.structural_prior(masked_images, masks)

  # ------------------------------------------------------------------ single pass (Eq. 8)
  def _single_impl(self, images, masks, class_conditions=None):
    masks = tf.cast(masks, tf.float32)
    masked_images = (1.0 - masks) * images
    conditions = self._conditions(masked_images, masks, class_conditions)
    z = conditioning.predict_z(self.prior_predictor, masked_images, masks, conditions)
    if z.shape.rank == 2:
      generated = conditioning.generate(self.generator, z, conditions)
      return compose(images=images, masks=masks, generated_images=generated), generated, z, None
    # K candidates (pgi_tf.inference.candidates): all K drawn in one batch, the best pasted.
    all_generated, z, scores = conditioning.fill_candidates(
        self.generator, z, masked_images, masks, conditions, discriminator=self.discriminator,
        lambda_realism=self.selection_lambda_realism, class_conditional=bool(self.num_classes),
        decay=conditioning.training_decay(self.prior_predictor))
    generated, z_best = candidates.choose(all_generated, scores), candidates.choose(z, scores)
    k = candidates.count(z)
    ordered = candidates.flatten(candidates.order(all_generated, scores))
    all_inpainted = compose(images=candidates.repeat(images, k), masks=candidates.repeat(masks, k),
                            generated_images=ordered)
    return (compose(images=images, masks=masks, generated_images=generated), generated, z_best,
            candidates.unflatten(all_inpainted, k))

  def predict_z(self, images, masks, class_conditions=None) -> tf.Tensor:
    if self.prior_predictor is None:
      raise ValueError("single / hybrid inpainting needs a prior predictor")
    return self._single(images, masks, class_conditions)[2]

  @property
  def num_candidates(self) -> int:
    """K of a P with candidate heads (1: the paper's P)."""
    metadata = getattr(self.prior_predictor, "metadata", None) or {}
    return int(metadata.get("num_candidates", 1))

  # ------------------------------------------------------------------ search (Eq. 2)
  def _search_impl(self, images, masks, z, m, v, start, steps, class_conditions=None):
    """Adam on z for `steps` steps of Yeh et al.'s loss from step `start` (m, v: Adam's moments),
    in one tf.while_loop. Returns (z, m, v, the loss of the last step)."""
    cfg = self.iterative_config
    masks = tf.cast(masks, tf.float32)
    masked_images = (1.0 - masks) * images
    weights = losses.yeh_importance_weights(masks, window=cfg.window)
    conditions = self._conditions(masked_images, masks, class_conditions)  # the search runs under S or y

    def loss_fn(z):
      generated = conditioning.generate(self.generator, z, conditions)
      per_example = losses.yeh_contextual_loss(masked_images=masked_images, generated_images=generated,
                                               weights=weights)
      if self.discriminator is not None and cfg.lambda_perceptual:
        per_example += cfg.lambda_perceptual * losses.yeh_perceptual_loss(
            fake_logits=conditioning.discriminate(
            self.discriminator, generated, conditions, class_conditional=bool(self.num_classes)))
      # Summed over the batch: each example's z gets its own, independent gradient.
      return tf.reduce_sum(per_example)

    def body(t, z, m, v, _):
      with tf.GradientTape() as tape:
        tape.watch(z)
        loss = loss_fn(z)
      g = tf.ensure_shape(tape.gradient(loss, z), z.shape)  # signatures return [None, ...] shapes
      t1 = tf.cast(t + 1, tf.float32)
      m = cfg.beta1 * m + (1 - cfg.beta1) * g
      v = cfg.beta2 * v + (1 - cfg.beta2) * tf.square(g)
      m_hat = m / (1 - cfg.beta1 ** t1)
      v_hat = v / (1 - cfg.beta2 ** t1)
      z = self.project_z(z - cfg.learning_rate * m_hat / (tf.sqrt(v_hat) + cfg.epsilon))
      return t + 1, z, m, v, loss

    _, z, m, v, loss = tf.while_loop(lambda t, *_: t < start + steps, body, (start, z, m, v, tf.constant(0.0)))
    return z, m, v, loss

  def _finish_impl(self, images, masks, z, class_conditions=None):
    masks = tf.cast(masks, tf.float32)
    conditions = self._conditions((1.0 - masks) * images, masks, class_conditions)
    generated = conditioning.generate(self.generator, z, conditions)
    return compose(images=images, masks=masks, generated_images=generated), generated

  def _run_search(self, images, masks, initial_z, steps: int, class_conditions, progress):
    """The search in compiled chunks of SEARCH_CHUNK steps, calling progress(steps done, steps,
    loss / image) after each; one chunk when nobody watches. The steps are the same ops in the same
    order either way, so the result does not depend on the chunking (tested)."""
    chunk = SEARCH_CHUNK if progress is not None else max(int(steps), 1)
    z, done = initial_z, 0
    m = v = tf.zeros_like(initial_z)
    while done < steps:
      count = min(chunk, steps - done)
      z, m, v, loss = self._search(images, masks, z, m, v, tf.constant(done), tf.constant(count), class_conditions)
      done += count
      if progress is not None:
        progress(done, steps, float(loss) / max(int(images.shape[0] or 1), 1))
    inpainted, generated = self._finish(images, masks, z, class_conditions)
    return inpainted, generated, z

  # ------------------------------------------------------------------ public API
  def iterations_for(self, resolution: int) -> int:
    """The configured step count, or the paper's default for the resolution (§6.3.1)."""
    if self.iterative_config.iterations is not None:
      return self.iterative_config.iterations
    return default_iterations(resolution)

  def predict_labels(self, images, masks) -> tf.Tensor:
    """--label=auto: the class predictor's top-1 class of each masked image (§6.3.3)."""
    if self.class_predictor is None:
      raise ValueError("labels: this BigGAN model is class-conditional; give labels or a class predictor")
    masks = tf.cast(masks, tf.float32)
    logits = self.class_predictor((1.0 - masks) * tf.cast(images, tf.float32), masks)
    return tf.argmax(logits, axis=-1, output_type=tf.int32)

  def inpaint(self, images, masks, *, mode: str = "single", iterations: int | None = None,
              refine_steps: int = 100, seed: int = 0, labels=None, progress=None) -> dict[str, tf.Tensor]:
    """Returns {"inpainted", "generated", "z"} (+ "labels" for a class-conditional G) for a batch;
    single mode with a K-candidate P adds "candidates": all K inpainted images [N, K, H, W, C],
    best (lowest Eq. 4 + λ1 Eq. 5) first; "inpainted" is the first of them.

    mode: single (Eq. 8), iterative (Eq. 2 from z ~ p_z, `iterations` steps; default from
    the resolution as in §6.3.1), hybrid (Eq. 2 from P's z for `refine_steps`).
    labels: class-conditional G only: int [N] class indices; None -> the class predictor's.
    progress: iterative / hybrid: called as progress(steps done, steps, loss per image) every
      SEARCH_CHUNK steps of the search (a progress bar); None runs the search in one call.
    """
    if mode not in MODES:
      raise ValueError(f"mode={mode!r}: choose one of {MODES}")
    if mode != "iterative" and self.prior_predictor is None:
      # Checked here: inside the tf.function the missing P would surface as a TypeError.
      raise ValueError(f"mode={mode!r}: single / hybrid inpainting needs a prior predictor")
    images = tf.convert_to_tensor(images, tf.float32)
    masks = tf.convert_to_tensor(masks, tf.float32)
    class_conditions = None
    if self.num_classes:
      labels = self.predict_labels(images, masks) if labels is None else tf.convert_to_tensor(labels, tf.int32)
      class_conditions = conditioning.class_conditions(labels, self.num_classes)
    outputs = {}
    if mode == "single":
      inpainted, generated, z, all_candidates = self._single(images, masks, class_conditions)
      if all_candidates is not None:
        outputs["candidates"] = all_candidates
    elif mode == "iterative":
      steps = iterations if iterations is not None else self.iterations_for(images.shape[1])
      initial = self.sample_z(tf.shape(images)[0], seed)
      inpainted, generated, z = self._run_search(images, masks, initial, int(steps), class_conditions, progress)
    else:  # hybrid
      initial = self.predict_z(images, masks, class_conditions)
      inpainted, generated, z = self._run_search(images, masks, initial, int(refine_steps), class_conditions, progress)
    outputs.update(inpainted=inpainted, generated=generated, z=z)
    if self.num_classes:
      outputs["labels"] = labels
    return outputs


def poisson_blend(*, images: np.ndarray, generated_images: np.ndarray, masks: np.ndarray) -> np.ndarray:
  """Yeh et al.'s optional post-processing: Poisson (gradient-domain) blending of G(ẑ) into I_d.

  Solves, inside the hole, ∇²x = ∇²G(ẑ) with x = I on the hole's border (OpenCV's
  seamlessClone). Known pixels are then restored exactly with Eq. 8. Inputs/outputs in
  [-1, 1], NHWC numpy.

  The blend never sees the pixels under the hole: seamlessClone also reads its destination
  inside the (internally eroded) mask, so the destination is Eq. 8's composite I_d + M ⊙ G(ẑ),
  not `images` (whose hole may hold the ground truth in an evaluation).
  """
  import cv2  # only this optional step needs OpenCV

  images = np.asarray(compose(images=images, masks=masks, generated_images=generated_images))

  blended = np.array(generated_images, dtype=np.float32, copy=True)
  pad = 2  # seamlessClone needs the hole (plus a margin) strictly inside the image
  for i in range(images.shape[0]):
    mask = (masks[i, ..., 0] > 0.5).astype(np.uint8) * 255
    if not mask.any():
      continue
    to_u8 = lambda x: np.clip(np.round((x + 1) * 127.5), 0, 255).astype(np.uint8)
    source, target = to_u8(generated_images[i]), to_u8(images[i])
    if source.shape[-1] == 1:
      source, target = np.repeat(source, 3, -1), np.repeat(target, 3, -1)
    source = cv2.copyMakeBorder(source, pad, pad, pad, pad, cv2.BORDER_REFLECT)
    target = cv2.copyMakeBorder(target, pad, pad, pad, pad, cv2.BORDER_REFLECT)
    mask = cv2.copyMakeBorder(mask, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=0)
    mask = cv2.dilate(mask, np.ones((3, 3), np.uint8))  # include the hole's border in the solve
    ys, xs = np.nonzero(mask)
    center = (int((xs.min() + xs.max() + 1) // 2), int((ys.min() + ys.max() + 1) // 2))
    try:
      result = cv2.seamlessClone(source, target, mask, center, cv2.NORMAL_CLONE)
    except cv2.error:
      continue  # degenerate hole shapes: keep G(ẑ) unblended
    result = result[pad:-pad, pad:-pad].astype(np.float32) / 127.5 - 1.0
    blended[i] = result[..., :1] if images.shape[-1] == 1 else result
  return np.asarray(compose(images=images, masks=masks, generated_images=blended))
