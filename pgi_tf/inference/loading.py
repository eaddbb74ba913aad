"""Loading a model: the frozen networks of a model directory (G, D, P, S, the class predictor)
with the checks that they belong together, and the Inpainter built from them. Every binary
that inpaints or evaluates loads its networks here."""

from __future__ import annotations

import dataclasses
import os
from typing import Sequence

from pgi_tf import bundled
from pgi_tf import generators
from pgi_tf import hub
from pgi_tf import structural
from pgi_tf.errors import InputError
from pgi_tf.generators import photo_realism
from pgi_tf.inference import inpainting


BUNDLED_MODEL_DIR = "hub_modules/fashion_mnist32"  # M_z on Fashion-MNIST at 32 px


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


def default_model_dir(structural_prior: str) -> str:
  """--model_dir when none is given: the bundled model of the structural prior (M_z and M_{z+S}
  on Fashion-MNIST at 32 px)."""
  if structural_prior == "auto":
    structural_prior = "none"
  structural.check_kind(structural_prior, flag="--structural_prior")
  if structural_prior == "none":
    return bundled.resolve(BUNDLED_MODEL_DIR)
  bundled_dir = structural.get_kind(structural_prior).bundled_model_dir
  if not bundled_dir:
    raise InputError(f"--structural_prior={structural_prior}: no bundled model (no face data set offline); "
                     "pass --model_dir of a model trained with it")
  return bundled.resolve(bundled_dir)


def model_part(model_dir: str, name: str) -> str:
  """model_dir/name (generator, prior_predictor, keypoint_refiner, ...) if that folder exists, else
  ""; a model_dir that is not a folder is an error."""
  if not model_dir:
    return ""
  if not os.path.isdir(model_dir):
    raise InputError(f"--model_dir={model_dir}: no such directory")
  path = os.path.join(model_dir, name)
  return path if os.path.isdir(path) else ""


def load_models(*, model_dir: str = "", generator: str = "", discriminator: str = "",
                prior_predictor: str = "", need_prior_predictor: bool = True,
                structural_prior: str = "auto", keypoint_refiner: str = "", photo_realism_policy: str = "auto",
                class_predictor: str = "", truncation: float | None = None,
                class_index: int | None = None, generator_tags: Sequence[str] | None = None,
                discriminator_tags: Sequence[str] | None = None) -> Models:
  """Loads G (+ D, + P, + S, + the class predictor) from a model directory (generator/,
  discriminator/, prior_predictor/, keypoint_refiner/, class_predictor/) or explicit paths,
  which win.

  generator: a registry name (progan-128, biggan-256, ...), a TF-Hub handle or a module
    directory; default: model_dir/generator/, else the generator P was trained against (its
    metadata), so a train_prior export directory is a model directory too. G is resolved with
    the class_index / truncation / output_resolution P was trained with.
  discriminator / photo_realism_policy: `pgi_tf.generators.photo_realism` ("none" turns D off).
  structural_prior: "auto" takes the model's (from G's metadata); "none" / "silhouette" must
    match it (a conditioned G cannot run without its prior, nor an M_z model with one).
  truncation, class_index: BigGAN without a P (iterative mode): how to build G.
  generator_tags, discriminator_tags: graph variants (TF1 Hub tag sets) of G's and D's modules;
    None = the module's default, and for compare_gan's own D the family's {"disc", "bs64"}.
  """
  def pick(explicit: str, name: str) -> str:
    return explicit or model_part(model_dir, name)

  p_path = pick(prior_predictor, "prior_predictor")
  p_metadata = (hub.read_metadata(p_path) or {}) if p_path else {}
  generator_spec = pick(generator, "generator") or p_metadata.get("generator_path", "")
  if not generator_spec:
    raise InputError(f"--model_dir={model_dir}: has no generator/ (or pass --generator)")
  if p_metadata:  # G exactly as P was trained against it
    class_index, truncation = p_metadata.get("class_index"), p_metadata.get("truncation")
  g, g_metadata = generators.resolve_generator(
      generator_spec, class_index=class_index, truncation=truncation,
      output_resolution=p_metadata.get("output_resolution") or None, tags=generator_tags)
  d, realism = photo_realism.load(photo_realism_policy, discriminator=pick(discriminator, "discriminator")
                                  if discriminator != "none" else "none", generator_metadata=g_metadata,
                                  discriminator_tags=discriminator_tags)
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
    refiner_path = pick(keypoint_refiner, "keypoint_refiner") or (
        (p.metadata or {}).get("keypoint_refiner", "") if p is not None else "")
    prior = structural.load_structural_prior(model_kind, refiner_path=refiner_path,
                                         num_rays=g_metadata.get("num_rays", 0) or 16,
                                         upsample=g_metadata.get("landmark_upsample", 1))
  classifier = None
  classifier_path = pick(class_predictor, "class_predictor")
  if classifier_path:
    if not generators.class_conditional(g_metadata):
      raise InputError(f"--class_predictor={classifier_path}: {g_metadata.get('generator')} is not a "
                       "class-conditional generator")
    classifier = hub.load_class_predictor(classifier_path, flag="--class_predictor")
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


def make_inpainter(models: Models, **kwargs) -> inpainting.Inpainter:
  return inpainting.Inpainter(
      generator=models.generator, discriminator=models.discriminator,
      prior_predictor=models.prior_predictor, z_dim=models.metadata["z_dim"],
      z_distribution=models.metadata.get("z_distribution", "uniform"),
      z_support=models.metadata.get("z_support", (-1.0, 1.0)), structural_prior=models.structural_prior,
      num_classes=models.metadata.get("num_classes", 0) if models.class_conditional else 0,
      class_predictor=models.class_predictor, **kwargs)
