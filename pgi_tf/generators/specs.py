"""The public pretrained generators this project can use (§5, §6.3.3, Table 2): one entry each.

Facts (checked on the public modules' TF-Hub pages; TF1 Hub format, signature "default"):

  family       z prior (metadata z_distribution, z_support)          module output
  progan       normal, N(0, I) -- unbounded                          [0, 1]
  biggan       truncated_normal, z = t * truncnorm(-2, 2): [-2t, 2t]  [-1, 1]
  compare_gan  uniform, U[-1, 1]                                     [0, 1]

BigGAN's authors and PG-GAN's TF-Hub module publish no discriminator; compare_gan's modules
ship one, in one of two layouts, both handled (pgi_tf/generators/registry.py):

  layout       where D lives                                     G / D signature: inputs -> outputs
  signatures   the default graph, signature "discriminator"       generator: default -> default,
               (the 2018 CelebA-HQ modules' TF-Hub page:          discriminator: default -> default
               `gan(images, signature="discriminator")`)
  tagged       graph variant tags {"disc", "bs64"} (compare_gan's  default: z -> generated (tags {} and
               `as_module_spec`: G under the empty default tags   {gen, bsN}); default: images -> prediction
               and {gen, bsN}, D under {disc, bsN}, N in 8..64;   (tags {disc, bsN}); fixed batch N
               ResNet exports add bsNone = any batch)

`discriminator_tags` names the variant the family's D is taken from without the user naming it.
"""

from __future__ import annotations

import dataclasses

FAMILIES = ("ours", "progan", "biggan", "compare_gan")
BIGGAN_TRUNCATION_RANGE = (0.02, 1.0)  # the modules' documented truncation input range
DEFAULT_BIGGAN_TRUNCATION = 0.5  # why: a common quality/diversity compromise; not from the paper


@dataclasses.dataclass(frozen=True)
class GeneratorSpec:
  """One pretrained generator: where it lives and how its z and images look."""
  family: str  # one of FAMILIES; selects the adapter
  handle: str  # TF-Hub handle; "" for "ours" (a local directory is always given)
  z_dim: int  # size of z
  z_distribution: str  # "uniform" | "normal" | "truncated_normal" (PriorHead's names)
  resolution: int  # output size R of [N, R, R, 3]
  module_value_range: tuple[float, float]  # range of the module's own output
  z_support: tuple[float, float] | None = None  # uniform bounds; truncated: from truncation
  default_truncation: float | None = None  # BigGAN only
  num_classes: int = 0  # BigGAN: 1000 ImageNet classes
  signature: str = "default"  # generator signature
  discriminator_signature: str | None = None  # only compare_gan ships a D
  # The graph variant (TF1 Hub tag set) holding D when the module has one; else D is looked for
  # in the generator's graph under discriminator_signature.
  discriminator_tags: tuple[str, ...] = ()
  description: str = ""


def _biggan(handle: str, z_dim: int, resolution: int, description: str) -> GeneratorSpec:
  return GeneratorSpec(family="biggan", handle=handle, z_dim=z_dim, z_distribution="truncated_normal",
                       resolution=resolution, module_value_range=(-1.0, 1.0),
                       default_truncation=DEFAULT_BIGGAN_TRUNCATION, num_classes=1000,
                       description=description)


GENERATORS: dict[str, GeneratorSpec] = {
    "ours": GeneratorSpec(family="ours", handle="", z_dim=0, z_distribution="uniform", resolution=0,
                          module_value_range=(-1.0, 1.0), z_support=(-1.0, 1.0),
                          description="a generator exported by pgi_tf (stage 1); metadata-driven"),
    "progan-128": GeneratorSpec(family="progan", handle="https://tfhub.dev/google/progan-128/1",
                                z_dim=512, z_distribution="normal", resolution=128,
                                module_value_range=(0.0, 1.0),
                                description="PG-GAN, CelebA-HQ faces, no discriminator"),
    "biggan-128": _biggan("https://tfhub.dev/deepmind/biggan-128/2", 120, 128, "BigGAN ImageNet 128"),
    "biggan-256": _biggan("https://tfhub.dev/deepmind/biggan-256/2", 140, 256, "BigGAN ImageNet 256"),
    "biggan-512": _biggan("https://tfhub.dev/deepmind/biggan-512/2", 128, 512, "BigGAN ImageNet 512"),
    "biggan-deep-128": _biggan("https://tfhub.dev/deepmind/biggan-deep-128/1", 128, 128,
                               "BigGAN-deep ImageNet 128"),
    "biggan-deep-256": _biggan("https://tfhub.dev/deepmind/biggan-deep-256/1", 128, 256,
                               "BigGAN-deep ImageNet 256"),
    "biggan-deep-512": _biggan("https://tfhub.dev/deepmind/biggan-deep-512/1", 128, 512,
                               "BigGAN-deep ImageNet 512"),
    "compare_gan-celebahq-128": GeneratorSpec(
        family="compare_gan", handle="https://tfhub.dev/google/compare_gan/model_9_celebahq128_resnet19/1",
        z_dim=128, z_distribution="uniform", z_support=(-1.0, 1.0), resolution=128,
        module_value_range=(0.0, 1.0), signature="generator", discriminator_signature="discriminator",
        discriminator_tags=("disc", "bs64"),  # compare_gan's as_module_spec: D at its default batch 64
        description="compare_gan ResNet19 on CelebA-HQ 128 (models 1,2,5,6,9 exist); ships a D"),
}
