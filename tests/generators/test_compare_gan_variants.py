"""compare_gan modules as published: G and D in graph variants chosen by tags, a fixed batch of 64.

Stand-ins in compare_gan's "tagged" layout (`standins.export_standin(..., layout="tagged")`:
G under the default tags and {gen, bs8 / bs64}, D under {disc, bs8 / bs64}, fixed batches) and
its "signatures" layout (G and D signatures in the default graph) go through the real loading
code: the registry, the photo-realism policy, `loading.load_models` and `binaries.inpaint`.
Values are cross-checked against the raw signatures called on their own fixed batch of 64.
"""

import hashlib
import json
import os
import re
import shutil

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_hub as tfhub

from pgi_tf import generators
from pgi_tf.errors import InputError
from pgi_tf.generators import photo_realism
from pgi_tf.generators import standins
from pgi_tf.hub import modules as hub_modules
from pgi_tf.inference import loading
from tests import tiny_models

NAME = "compare_gan-celebahq-128"
RESOLUTION = 8  # reduced from 128 to keep the tests fast
BATCH = 64  # compare_gan's export batch


@pytest.fixture(scope="module")
def tagged(tmp_path_factory):
  return standins.export_standin(NAME, str(tmp_path_factory.mktemp("cg") / "tagged"), resolution=RESOLUTION,
                                 layout="tagged")


@pytest.fixture(scope="module")
def signatures_layout(tmp_path_factory):
  return standins.export_standin(NAME, str(tmp_path_factory.mktemp("cg") / "signatures"), resolution=RESOLUTION)


def _z(rows, seed=3):
  return tf.random.stateless_uniform([rows, 128], seed=[seed, 0], minval=-1.0, maxval=1.0)


def _raw(path, tags, key, **inputs):
  """The module's own signature on exactly BATCH rows (an independent path: no adapter, no padding)."""
  return tfhub.load(path, tags=tags).signatures["default"](**inputs)[key].numpy()


def test_tagged_standin_has_the_published_variants(tagged):
  assert hub_modules.read_tag_sets(tagged) == [(), ("bs8", "gen"), ("bs8", "disc"), ("bs64", "gen"), ("bs64", "disc")]
  assert generators.read_signatures(tagged, tags=()) == {
      "default": {"inputs": {"z": [BATCH, 128]}, "outputs": {"generated": [BATCH, RESOLUTION, RESOLUTION, 3]}}}
  assert generators.read_signatures(tagged, tags=("disc", "bs64")) == {
      "default": {"inputs": {"images": [BATCH, RESOLUTION, RESOLUTION, 3]}, "outputs": {"prediction": [BATCH, 1]}}}
  assert generators.read_signatures(tagged, tags=("disc", "bs32")) == {}
  with pytest.raises(tf.errors.InvalidArgumentError):  # the fixed batch is real: 3 rows fail
    _raw(tagged, [], "generated", z=_z(3))


def test_generator_any_batch_equals_rows_of_the_full_batch(tagged):
  layer, metadata = generators.resolve_generator(tagged)
  assert metadata["family"] == "compare_gan" and metadata["generator"] == NAME
  assert metadata["generator_tags"] == [] and metadata["module_batch"] == BATCH
  z = _z(70)
  module_images = np.concatenate([_raw(tagged, [], "generated", z=z[:BATCH]),
                                  _raw(tagged, [], "generated", z=tf.pad(z[BATCH:], [[0, 2 * BATCH - 70], [0, 0]]))])
  expected = module_images * 2.0 - 1.0  # [0, 1] -> ours
  np.testing.assert_allclose(layer(z[:3]).numpy(), expected[:3], atol=1e-6)  # padded to 64
  np.testing.assert_allclose(layer(z).numpy(), expected[:70], atol=1e-6)  # two chunks
  np.testing.assert_array_equal(layer(z[:3]).numpy(), layer(z[:BATCH]).numpy()[:3])


def test_discriminator_variant_comes_from_the_family_spec(tagged):
  assert generators.GENERATORS[NAME].discriminator_tags == ("disc", "bs64")
  _, metadata = generators.resolve_generator(tagged)
  assert metadata["discriminator_tags"] == ["bs64", "disc"] and metadata["discriminator_signature"] == "default"
  d, record = photo_realism.load("auto", discriminator="", generator_metadata=metadata)
  assert record == {"photo_realism": "discriminator", "discriminator": "module:default@bs64,disc"}
  assert d.metadata["tags"] == ["bs64", "disc"] and d.metadata["module_batch"] == BATCH
  images = tf.random.stateless_uniform([5, RESOLUTION, RESOLUTION, 3], seed=[4, 0], minval=-1.0, maxval=1.0)
  padded = tf.pad((images + 1.0) / 2.0, [[0, BATCH - 5], [0, 0], [0, 0], [0, 0]])  # ours -> [0, 1]
  probability = np.clip(_raw(tagged, ["disc", "bs64"], "prediction", images=padded)[:5, 0], 1e-7, 1 - 1e-7)
  # "prediction" is sigmoid(logits): the adapter returns the logit log(p / (1 - p)).
  np.testing.assert_allclose(d(images).numpy(), np.log(probability / (1.0 - probability)), atol=1e-4)
  other = generators.load_module_discriminator(metadata, tags=("disc", "bs8"))  # same weights, batch 8
  assert other.metadata["module_batch"] == 8
  np.testing.assert_allclose(other(images).numpy(), d(images).numpy(), atol=1e-5)


def test_wrong_or_non_discriminator_variants_are_one_line(tagged):
  _, metadata = generators.resolve_generator(tagged)
  with pytest.raises(InputError) as error:
    generators.load_module_discriminator(metadata, tags=("disc", "bs32"))
  assert str(error.value) == (f"--discriminator_tags=bs32,disc: {tagged} has no graph variant with tags {{bs32, disc}} "
                              "(its tag sets: {} (default), {bs8, gen}, {bs8, disc}, {bs64, gen}, {bs64, disc})")
  with pytest.raises(InputError, match=r"^--discriminator_tags=bs8,gen: that graph variant of compare_gan-celebahq-128 "
                                       r"has no discriminator signature \(found: default\(z\)\)$"):
    generators.load_module_discriminator(metadata, tags=("gen", "bs8"))
  with pytest.raises(InputError, match=r"^--generator_tags=disc,bs64: the module's signatures \(graph variant "
                                       r"\{bs64, disc\} of .*\) match no generator adapter"):
    generators.resolve_generator(tagged, tags=("disc", "bs64"), tags_flag="--generator_tags")


def test_generator_tags_choose_the_variant(tagged):
  default, _ = generators.resolve_generator(tagged)
  layer, metadata = generators.resolve_generator(tagged, tags=("gen", "bs8"))
  assert metadata["generator_tags"] == ["bs8", "gen"] and metadata["module_batch"] == 8
  z = _z(11)  # two chunks of 8
  np.testing.assert_allclose(layer(z).numpy(), default(z).numpy(), atol=1e-6)


def test_signatures_layout_keeps_d_in_the_default_graph(signatures_layout):
  """The 2018 CelebA-HQ modules' layout (TF-Hub page: `gan(images, signature="discriminator")`)."""
  assert hub_modules.read_tag_sets(signatures_layout) == [()]
  _, metadata = generators.resolve_generator(signatures_layout)
  assert metadata["discriminator_tags"] == [] and metadata["discriminator_signature"] == "discriminator"
  assert metadata["module_batch"] is None
  d, record = photo_realism.load("auto", discriminator="", generator_metadata=metadata)
  assert record["discriminator"] == "module:discriminator" and d.metadata["tags"] == []


def test_registry_name_resolves_offline_from_a_cached_copy(tagged, tmp_path, monkeypatch):
  """tensorflow_hub caches a handle under $TFHUB_CACHE_DIR/<sha1 of the handle> and uses that copy
  without the network: the README's offline recipe for a module downloaded elsewhere."""
  handle = generators.GENERATORS[NAME].handle
  cached = tmp_path / "tfhub_modules" / hashlib.sha1(handle.encode("utf8")).hexdigest()
  shutil.copytree(tagged, cached)
  monkeypatch.setenv("TFHUB_CACHE_DIR", str(tmp_path / "tfhub_modules"))
  layer, metadata = generators.resolve_generator(NAME)
  assert metadata["module_path"] == str(cached) and metadata["handle"] == handle
  assert metadata["discriminator_tags"] == ["bs64", "disc"] and layer(_z(2)).shape == (2, RESOLUTION, RESOLUTION, 3)


def test_load_models_passes_the_tags_through(tagged):
  models = loading.load_models(generator=tagged, need_prior_predictor=False, generator_tags=("gen", "bs8"),
                               discriminator_tags=("disc", "bs8"))
  assert models.metadata["generator_tags"] == ["bs8", "gen"] and models.metadata["module_batch"] == 8
  assert models.photo_realism["discriminator"] == "module:default@bs8,disc"
  with pytest.raises(InputError, match=r"^--generator_tags=bs16,gen: .* has no graph variant with tags \{bs16, gen\}"):
    loading.load_models(generator=tagged, need_prior_predictor=False, generator_tags=("gen", "bs16"))


def test_inpaint_cli_on_a_tagged_module(tagged, tmp_path):
  """binaries.inpaint with --generator_tags / --discriminator_tags: results on disk, the D variant recorded,
  the known pixels kept (Eq. 8); a wrong tag set is one `error:` line, exit 2, nothing written."""
  images, masks = tmp_path / "images", tmp_path / "masks"
  rng = np.random.default_rng(0)
  for name in ("a.png", "b.png"):
    tiny_models.write_png(str(images / name), rng.integers(0, 256, (RESOLUTION, RESOLUTION, 3)).astype(np.uint8))
    hole = np.zeros((RESOLUTION, RESOLUTION), np.uint8)
    hole[2:6, 2:6] = 255
    tiny_models.write_png(str(masks / name), hole)
  common = [f"--generator={tagged}", f"--input={images}", f"--masks={masks}", "--mode=iterative", "--iterations=2",
            "--batch_size=2"]
  out = {name: str(tmp_path / "out" / name) for name in ("good", "bad_tags")}
  good, bad = tiny_models.run_binary_cases(
      "binaries.inpaint", [[*common, "--generator_tags=gen,bs8", f"--output_dir={out['good']}"],
                           [*common, "--discriminator_tags=disc,bs32", f"--output_dir={out['bad_tags']}"]],
      workdir=str(tmp_path / "runner"))
  assert good.returncode == 0, good.stderr[-3000:]
  results = json.loads(open(os.path.join(out["good"], "results.json")).read())
  assert results["photo_realism"] == "discriminator" and results["discriminator"] == "module:default@bs64,disc"
  for name in ("a.png", "b.png"):
    original, result = tiny_models.read_png(str(images / name)), tiny_models.read_png(os.path.join(out["good"], name))
    hole = tiny_models.read_png(str(masks / name)) > 127
    assert np.array_equal(result[~hole], original[~hole])
  assert bad.returncode == 2, bad.stderr[-3000:]
  error_lines = [line for line in bad.stderr.splitlines() if line.startswith("error:")]
  assert len(error_lines) == 1 and re.fullmatch(
      r"error: --discriminator_tags=bs32,disc: .* has no graph variant with tags \{bs32, disc\} \(its tag sets: "
      r"\{\} \(default\), \{bs8, gen\}, \{bs8, disc\}, \{bs64, gen\}, \{bs64, disc\}\)", error_lines[0]), bad.stderr
  assert not os.path.exists(out["bad_tags"]) or not os.listdir(out["bad_tags"])
