"""TF1 Hub modules with several graph variants (tags) and fixed-batch signatures, as published.

The stand-in is built offline in the published format (a TF1 SavedModel with one meta graph per
tag set + tfhub_module.pb, `standins.write_tf1_hub_module`) and holds networks whose outputs can
be worked out by hand:

  tags            signature "default"              value
  {} (default)    z [N, 2]     -> generated [N, 3]   z @ W,       W = [[1, 2, 3], [4, 5, 6]]
  {gen, bs4}      z [4, 2]     -> generated [4, 3]   z @ W, refuses any batch but 4 (as compare_gan's)
  {disc, bs4}     images [4, 3] -> prediction [4, 1] images @ V, V = [[1], [-1], [2]]
"""

import numpy as np
import pytest
import tensorflow as tf
from tensorflow.python.tools import saved_model_utils  # what saved_model_cli lists tag sets with

from pgi_tf.errors import InputError
from pgi_tf.generators import standins
from pgi_tf.hub import modules as hub_modules

W = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], np.float32)
V = np.array([[1.0], [-1.0], [2.0]], np.float32)
FIXED_BATCH = 4


def _fixed(x, batch):
  # Unstack/stack fails at run time on another batch (a reshape would be removed by Grappler).
  return x if batch is None else tf.stack(tf.unstack(x, num=batch, axis=0), axis=0)


def _input(shape, name):
  if shape[0] is None:
    return tf.compat.v1.placeholder(tf.float32, shape, name=name)
  return tf.zeros(shape, tf.float32, name=name)  # compare_gan's fixed-batch inputs


def _signature(inputs, outputs):
  return {"default": tf.compat.v1.saved_model.signature_def_utils.predict_signature_def(
      inputs=inputs, outputs=outputs)}


def _generator(batch):
  def build():
    z = _input([batch, 2], "z")
    kernel = tf.compat.v1.get_variable("generator/kernel", initializer=tf.constant(W))
    return _signature({"z": z}, {"generated": _fixed(z, batch) @ kernel})
  return build


def _discriminator(batch):
  def build():
    images = _input([batch, 3], "images")
    kernel = tf.compat.v1.get_variable("discriminator/kernel", initializer=tf.constant(V))
    return _signature({"images": images}, {"prediction": _fixed(images, batch) @ kernel})
  return build


@pytest.fixture(scope="module")
def module_dir(tmp_path_factory):
  path = str(tmp_path_factory.mktemp("variants") / "module")
  standins.write_tf1_hub_module(
      path, [((), _generator(None)), (("gen", f"bs{FIXED_BATCH}"), _generator(FIXED_BATCH)),
             (("disc", f"bs{FIXED_BATCH}"), _discriminator(FIXED_BATCH))],
      weights={"generator/kernel": W, "discriminator/kernel": V})
  return path


Z = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [2.0, -1.0], [0.5, 0.5], [-1.0, 3.0],
              [3.0, 0.0], [0.0, -2.0], [1.0, 2.0]], np.float32)
# Z @ W, by hand: row (a, b) -> (a + 4b, 2a + 5b, 3a + 6b).
Z_TIMES_W = np.array([[1, 2, 3], [4, 5, 6], [5, 7, 9], [-2, -1, 0], [2.5, 3.5, 4.5], [11, 13, 15],
                      [3, 6, 9], [-8, -10, -12], [9, 12, 15]], np.float32)
IMAGES = np.array([[1.0, 1.0, 1.0], [2.0, 0.0, 0.0], [0.0, 1.0, 0.0]], np.float32)
IMAGES_TIMES_V = np.array([[2.0], [2.0], [-1.0]], np.float32)  # a - b + 2c


def test_tag_sets_are_read_from_saved_model_pb(module_dir):
  sets = hub_modules.read_tag_sets(module_dir)
  assert sets == [(), ("bs4", "gen"), ("bs4", "disc")]
  assert sorted(map(tuple, map(sorted, saved_model_utils.get_saved_model_tag_sets(module_dir)))) == sorted(sets)
  assert hub_modules.describe_tag_sets(sets) == "{} (default), {bs4, gen}, {bs4, disc}"


def test_generator_and_discriminator_load_by_their_tags(module_dir):
  default = hub_modules.HubModuleLayer(module_dir, output_key="generated")
  assert default.tags is None and default.fixed_batch is None
  np.testing.assert_allclose(default(Z[:3]).numpy(), Z_TIMES_W[:3], rtol=0, atol=1e-6)

  fixed = hub_modules.HubModuleLayer(module_dir, output_key="generated", tags=["gen", "bs4"])
  assert fixed.tags == ["gen", "bs4"] and fixed.fixed_batch == FIXED_BATCH
  np.testing.assert_allclose(fixed(Z[:4]).numpy(), Z_TIMES_W[:4], rtol=0, atol=1e-6)

  discriminator = hub_modules.HubModuleLayer(module_dir, output_key="prediction", tags={"disc", "bs4"})
  assert discriminator.input_names == ["images"] and discriminator.fixed_batch == FIXED_BATCH
  np.testing.assert_allclose(discriminator(IMAGES).numpy(), IMAGES_TIMES_V, rtol=0, atol=1e-6)


@pytest.mark.parametrize("tags,tags_flag,expected", [
    (["disc", "bs8"], "--discriminator_tags",
     "--discriminator_tags=bs8,disc: {path} has no graph variant with tags {{bs8, disc}} "
     "(its tag sets: {{}} (default), {{bs4, gen}}, {{bs4, disc}})"),
    (["serve"], "--generator_tags",
     "--generator_tags=serve: {path} has no graph variant with tags {{serve}} "
     "(its tag sets: {{}} (default), {{bs4, gen}}, {{bs4, disc}})"),
])
def test_wrong_tags_are_one_line_listing_the_tag_sets(module_dir, tags, tags_flag, expected):
  with pytest.raises(InputError) as error:
    hub_modules.HubModuleLayer(module_dir, flag="--generator", tags=tags, tags_flag=tags_flag)
  assert str(error.value) == expected.format(path=module_dir)
  assert "\n" not in str(error.value)


def test_a_variant_without_the_signature_output_is_one_line(module_dir):
  with pytest.raises(InputError, match=r"^--generator=.*: signature 'default' \(tags \{disc, bs4\}\) has no "
                                       r"output 'generated' \(found: prediction\)$"):
    hub_modules.HubModuleLayer(module_dir, flag="--generator", output_key="generated", tags=["disc", "bs4"])


def test_the_raw_fixed_batch_signature_refuses_other_batches(module_dir):
  """What the layer's padding is for: the variant itself only runs on its own batch."""
  layer = hub_modules.HubModuleLayer(module_dir, output_key="generated", tags=["gen", "bs4"])
  raw = layer._function.value  # pylint: disable=protected-access
  np.testing.assert_allclose(raw(z=tf.constant(Z[:4]))["generated"].numpy(), Z_TIMES_W[:4], atol=1e-6)
  with pytest.raises(tf.errors.InvalidArgumentError):
    raw(z=tf.constant(Z[:3]))


@pytest.mark.parametrize("rows", [1, 3, 4, 5, 9])
def test_fixed_batch_pads_and_slices_any_batch(module_dir, rows):
  """Batches below, at and above the fixed 4 (9 = three chunks, the last padded by 3 rows)."""
  layer = hub_modules.HubModuleLayer(module_dir, output_key="generated", tags=["gen", "bs4"])
  out = layer(Z[:rows])
  assert out.shape == (rows, 3)
  np.testing.assert_allclose(out.numpy(), Z_TIMES_W[:rows], rtol=0, atol=1e-6)


def test_batch_of_three_equals_the_rows_of_a_full_batch(module_dir):
  layer = hub_modules.HubModuleLayer(module_dir, output_key="generated", tags=["gen", "bs4"])
  full = layer(Z[:FIXED_BATCH]).numpy()
  np.testing.assert_array_equal(layer(Z[:3]).numpy(), full[:3])
  np.testing.assert_array_equal(layer(Z[1:2]).numpy(), full[1:2])


def test_fixed_batch_in_a_tf_function_of_unknown_batch_with_gradients(module_dir):
  """The search of Eq. 2 differentiates G(z) inside a tf.function whose batch is not static."""
  layer = hub_modules.HubModuleLayer(module_dir, output_key="generated", tags=["gen", "bs4"])

  @tf.function(input_signature=[tf.TensorSpec([None, 2], tf.float32)])
  def value_and_gradient(z):
    with tf.GradientTape() as tape:
      tape.watch(z)
      total = tf.reduce_sum(layer(z))
    return layer(z), tape.gradient(total, z)

  for rows in (3, 6):
    out, gradient = value_and_gradient(tf.constant(Z[:rows]))
    np.testing.assert_allclose(out.numpy(), Z_TIMES_W[:rows], atol=1e-6)
    # d sum(z @ W) / dz = the row sums of W = (6, 15) for every real row; padded rows get none.
    np.testing.assert_allclose(gradient.numpy(), np.tile([[6.0, 15.0]], (rows, 1)), atol=1e-6)


def test_fixed_batch_size_detection():
  spec = tf.TensorSpec
  assert hub_modules.fixed_batch_size({"z": spec([64, 128])}) == 64
  assert hub_modules.fixed_batch_size({"z": spec([None, 128])}) is None
  assert hub_modules.fixed_batch_size({"z": spec([8, 120]), "y": spec([8, 1000]), "truncation": spec([])}) == 8
  assert hub_modules.fixed_batch_size({"z": spec([None, 120]), "truncation": spec([])}) is None
  assert hub_modules.fixed_batch_size({"a": spec([8, 2]), "b": spec([16, 2])}) is None  # no one batch


def test_parse_tags():
  assert hub_modules.parse_tags("disc, bs64") == ("bs64", "disc")
  assert hub_modules.parse_tags(["gen", "bs8", "gen"]) == ("bs8", "gen")
  assert hub_modules.parse_tags("") is None and hub_modules.parse_tags(None) is None
  with pytest.raises(InputError, match=r"^--generator_tags=disc,,bs64: an empty tag"):
    hub_modules.parse_tags("disc,,bs64", flag="--generator_tags")


def test_layer_config_keeps_the_variant(module_dir):
  layer = hub_modules.HubModuleLayer(module_dir, output_key="prediction", tags=["disc", "bs4"],
                                     tags_flag="--discriminator_tags")
  config = layer.get_config()
  assert config["tags"] == ["disc", "bs4"] and config["tags_flag"] == "--discriminator_tags"
  rebuilt = hub_modules.HubModuleLayer.from_config(config)
  np.testing.assert_array_equal(rebuilt(IMAGES).numpy(), layer(IMAGES).numpy())


def test_explicit_discriminator_module_with_tags(module_dir, tmp_path):
  """--discriminator=<module> --discriminator_tags=disc,bs4: that variant, padded to its batch. A module
  given as --discriminator follows pgi_tf's D convention (output "default" = logits); one whose
  variant says otherwise (compare_gan's "prediction") is refused in one line."""
  from pgi_tf.generators import photo_realism  # the policy that turns the flags into a D

  def logits_discriminator():
    images = _input([FIXED_BATCH, 3], "images")
    kernel = tf.compat.v1.get_variable("discriminator/kernel", initializer=tf.constant(V))
    return _signature({"images": images}, {"default": _fixed(images, FIXED_BATCH) @ kernel})

  path = str(tmp_path / "d_module")
  standins.write_tf1_hub_module(path, [((), _generator(None)), (("disc", "bs4"), logits_discriminator)],
                                weights={"generator/kernel": W, "discriminator/kernel": V})
  layer, record = photo_realism.load("discriminator", discriminator=path, discriminator_tags=("disc", "bs4"),
                                     generator_metadata={"generator": "ours"})
  assert record == {"photo_realism": "discriminator", "discriminator": path}
  assert sorted(layer.tags) == ["bs4", "disc"] and layer.input_names == ["images"] and layer.fixed_batch == 4
  np.testing.assert_allclose(layer(IMAGES).numpy(), IMAGES_TIMES_V, rtol=0, atol=1e-6)
  with pytest.raises(InputError, match=r"^--discriminator_tags=bs8,disc: .* has no graph variant"):
    photo_realism.load("discriminator", discriminator=path, discriminator_tags=("disc", "bs8"),
                       generator_metadata={"generator": "ours"})
  with pytest.raises(InputError, match=r"^--discriminator=.*: signature 'default' \(tags \{disc, bs4\}\) has no "
                                       r"output 'default' \(found: prediction\)$"):
    photo_realism.load("discriminator", discriminator=module_dir, discriminator_tags=("disc", "bs4"),
                       generator_metadata={"generator": "ours"})
