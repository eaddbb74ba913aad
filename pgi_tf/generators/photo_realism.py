"""Which frozen D scores photo-realism (Eq. 5), chosen explicitly and recorded.

Eq. 5 needs "the pre-trained discriminator", but BigGAN's authors and PG-GAN's TF-Hub module
publish none (compare_gan's modules are the exception). So every binary that uses D takes a
policy, and every output's metadata records the one used:

  policy          D                                                     recorded as
  auto            the given --discriminator (a critic is recognised by its metadata), else the
                  module's own D (compare_gan), else: training -> error, inference -> off
  discriminator   our stage-1 D (--discriminator=PATH) or the module's own D (compare_gan)   "discriminator"
  critic          a critic trained against this frozen G on the user's data
                  (binaries/train_critic.py; its metadata must name the same G weights)     "critic"
  off             none: λ1 L_r drops out of Eq. 7 and Yeh et al.'s perceptual term is off   "off"

--discriminator=none is "off" (kept for the presets written before the policy existed).
--discriminator_tags picks the graph variant D is read from: for the module's own D (compare_gan)
it replaces the family's {"disc", "bs64"}; for a --discriminator module it is passed to hub.load.
"""

from __future__ import annotations

import os
from typing import Any, Sequence

from absl import logging

from pgi_tf import hub
from pgi_tf.generators import registry
from pgi_tf.errors import InputError

POLICIES = ("auto", "discriminator", "critic", "off")


def check_critic_matches_generator(critic_path: str, generator_metadata: dict, *, flag: str) -> dict:
  """The critic's metadata, after checking it is a critic trained against this G's weights.

  Raises:
    InputError: (one line naming `flag` and the path) no such directory, not a critic
      exported by binaries/train_critic.py, other generator weights, or another image size.
  """
  if not os.path.isdir(critic_path):
    raise InputError(f"{flag}={critic_path}: no such critic directory")
  metadata = hub.read_metadata(critic_path)
  if metadata is None or not metadata.get("critic") or metadata.get("kind") != "discriminator":
    raise InputError(f"{flag}={critic_path}: not a critic exported by binaries/train_critic.py "
                     f"(its {hub.METADATA_FILENAME} is missing or has no critic=true)")
  expected, actual = metadata.get("generator_fingerprint"), registry.fingerprint(generator_metadata)
  if expected != actual:
    raise InputError(f"{flag}={critic_path}: trained against another generator "
                     f"({metadata.get('critic_for')}, weights {expected}) than "
                     f"{generator_metadata.get('generator')} (weights {actual})")
  if metadata.get("resolution") != generator_metadata.get("resolution"):  # e.g. G resized for a pipeline
    raise InputError(f"{flag}={critic_path}: scores {metadata.get('resolution')} px images; the generator "
                     f"gives {generator_metadata.get('resolution')} px")
  if generator_metadata.get("truncation") != metadata.get("truncation"):  # same weights, other fakes
    logging.warning("%s=%s: trained at truncation %s, used at %s", flag, critic_path, metadata.get("truncation"),
                    generator_metadata.get("truncation"))
  return metadata


def load(policy: str, *, discriminator: str, generator_metadata: dict, required: bool = False,
         policy_flag: str = "--photo_realism", discriminator_flag: str = "--discriminator",
         discriminator_tags: Sequence[str] | None = None, discriminator_tags_flag: str = "--discriminator_tags"
         ) -> tuple[Any, dict]:
  """(frozen D layer or None, record) for a policy in POLICIES.

  Args:
    policy: one of POLICIES.
    discriminator: a D / critic module directory, "" (none given) or "none" (off).
    generator_metadata: the resolved generator's metadata (`registry.resolve_generator`).
    required: training: "auto" with no D available is an error (the user must say off or
      critic) instead of falling back to off.
    discriminator_tags: the graph variant of a TF1 Hub module holding D; None = the module's
      default (for compare_gan's own D: the variant its family names, spec discriminator_tags).

  Returns:
    (layer, record): record = {"photo_realism": "discriminator" | "critic" | "off",
    "discriminator": what was loaded ("none" when off; "module:<signature>" for a module's own D,
    "module:<signature>@<tag>,<tag>" when it lives in a tagged graph variant)}.
  """
  if policy not in POLICIES:
    raise InputError(f"{policy_flag}={policy}: choose one of {', '.join(POLICIES)}")
  name = generator_metadata.get("generator", "")
  if policy == "off" or discriminator == "none":
    if policy not in ("off", "auto"):
      raise InputError(f"{discriminator_flag}=none: contradicts {policy_flag}={policy}")
    return None, {"photo_realism": "off", "discriminator": "none"}
  if discriminator:
    critic_metadata = hub.read_metadata(discriminator) if not hub.is_remote_handle(discriminator) else None
    is_critic = bool((critic_metadata or {}).get("critic"))
    if policy == "critic" or (policy == "auto" and is_critic):
      check_critic_matches_generator(discriminator, generator_metadata, flag=discriminator_flag)
      layer = hub.load_discriminator(discriminator, flag=discriminator_flag)
      return layer, {"photo_realism": "critic", "discriminator": discriminator}
    if is_critic:
      raise InputError(f"{discriminator_flag}={discriminator}: a critic trained by binaries/train_critic.py; "
                       f"pass {policy_flag}=critic (or auto)")
    if discriminator_tags is not None:  # a variant of a TF1 Hub module: hub.load(..., tags)
      layer = hub.HubModuleLayer(discriminator, flag=discriminator_flag, tags=discriminator_tags,
                                 tags_flag=discriminator_tags_flag, name="frozen_discriminator")
      if "images" in layer.input_names:  # images first, as hub.load_discriminator orders them
        layer.input_names = ["images"] + [n for n in layer.input_names if n != "images"]
    else:
      layer = hub.load_discriminator(discriminator, flag=discriminator_flag)
    if layer.metadata is not None and layer.metadata.get("kind") != "discriminator":
      raise InputError(f"{discriminator_flag}={discriminator}: a pgi_tf {layer.metadata.get('kind')} module, "
                       "not a discriminator")
    return layer, {"photo_realism": "discriminator", "discriminator": discriminator}
  if policy == "critic":
    raise InputError(f"{policy_flag}=critic: give the critic with {discriminator_flag}=PATH "
                     f"(train one with binaries/train_critic.py --config.generator={name})")
  # compare_gan ships its D; tags without a D module name a variant of G's module (an error if none has D)
  if generator_metadata.get("discriminator_signature") or discriminator_tags is not None:
    layer = registry.load_module_discriminator(generator_metadata, flag=discriminator_flag, tags=discriminator_tags,
                                               tags_flag=discriminator_tags_flag)
    d_tags = layer.metadata.get("tags")
    return layer, {"photo_realism": "discriminator",
                   "discriminator": f"module:{layer.module_layer.signature_name}"
                                    + (f"@{','.join(d_tags)}" if d_tags else "")}
  if policy == "discriminator" or required:
    raise InputError(f"{policy_flag}={policy}: {name or 'the generator'} ships no discriminator and none was "
                     f"given; choose {policy_flag}=off, or {policy_flag}=critic with a critic from "
                     f"binaries/train_critic.py, or pass {discriminator_flag}=PATH")
  return None, {"photo_realism": "off", "discriminator": "none"}
