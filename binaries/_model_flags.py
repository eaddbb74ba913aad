"""The flags that choose a model (G, D, P, S, the class predictor), shared by inpaint and evaluate.

Defined once here so both binaries say the same thing and load models the same way
(`pgi_tf.inference.loading.load_models`).
"""

from absl import flags

from pgi_tf.hub import modules as hub_modules
from pgi_tf.inference import loading

MODEL_DIR = flags.DEFINE_string(
    "model_dir", "", "generator/, discriminator/, prior_predictor/ (+ keypoint_refiner/, class_predictor/, "
    "sequence_prior/), or a train_prior export directory; '' = the bundled model of --structural_prior "
    "(hub_modules/fashion_mnist32, hub_modules/fashion_mnist32_silhouette_retrained).")
KEYPOINT_REFINER = flags.DEFINE_string("keypoint_refiner", "", "Keypoint refiner module (overrides --model_dir).")
GENERATOR = flags.DEFINE_string(
    "generator", "", "Generator: a registry name (progan-128, biggan-256, ... : pgi_tf/generators/), a TF-Hub "
    "handle, a module directory or standin:NAME[@R] (overrides --model_dir and P's metadata).")
DISCRIMINATOR = flags.DEFINE_string("discriminator", "", "Discriminator or critic module, or 'none'.")
GENERATOR_TAGS = flags.DEFINE_string(
    "generator_tags", "", "Graph variant of a TF1 Hub generator module: its tags, comma-separated (e.g. gen,bs8); "
    "'' = the module's default (empty tag set). A wrong set is refused with the module's tag sets listed.")
DISCRIMINATOR_TAGS = flags.DEFINE_string(
    "discriminator_tags", "", "Graph variant holding D, comma-separated tags (e.g. disc,bs64): of --discriminator's "
    "module, else of the generator's own module (compare_gan); '' = the module's default, and for compare_gan "
    "the family's {disc, bs64}.")
PHOTO_REALISM = flags.DEFINE_enum(
    "photo_realism", "auto", ["auto", "discriminator", "critic", "off"],
    "D for the iterative search's perceptual term (pgi_tf/generators/photo_realism.py); recorded in results.json.")
PRIOR_PREDICTOR = flags.DEFINE_string("prior_predictor", "", "Prior predictor module (overrides --model_dir).")
CLASS_PREDICTOR = flags.DEFINE_string(
    "class_predictor", "", "Class-conditional BigGAN: the masked-image classifier (binaries/train_class_predictor.py; "
    "overrides --model_dir) for --label=auto and evaluate's predicted-label rows.")


def model_dir(structural_prior: str) -> str:
  """--model_dir, or the bundled model of the structural prior, or none when --generator swaps G
  (then G, and P only if --prior_predictor names one)."""
  if MODEL_DIR.value:
    return MODEL_DIR.value
  return "" if GENERATOR.value else loading.default_model_dir(structural_prior)


def load_models(*, structural_prior: str, need_prior_predictor: bool, discriminator: str | None = None,
                prior_predictor: str | None = None, **kwargs) -> loading.Models:
  """The models the flags name; `discriminator` and `prior_predictor` override their flags."""
  return loading.load_models(
      model_dir=model_dir(structural_prior), generator=GENERATOR.value,
      discriminator=DISCRIMINATOR.value if discriminator is None else discriminator,
      prior_predictor=PRIOR_PREDICTOR.value if prior_predictor is None else prior_predictor, need_prior_predictor=need_prior_predictor,
      structural_prior=structural_prior, keypoint_refiner=KEYPOINT_REFINER.value,
      photo_realism_policy=PHOTO_REALISM.value, class_predictor=CLASS_PREDICTOR.value,
      generator_tags=hub_modules.parse_tags(GENERATOR_TAGS.value, flag="--generator_tags"),
      discriminator_tags=hub_modules.parse_tags(DISCRIMINATOR_TAGS.value, flag="--discriminator_tags"), **kwargs)
