"""Generator registry, adapters and offline stand-ins (pgi_tf/generators/)."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf

from pgi_tf import generators
from pgi_tf import hub
from pgi_tf.generators import standins
from pgi_tf.errors import InputError
from pgi_tf.models import prior_predictor as prior_lib

STANDIN_RESOLUTION = 8  # reduced from the real 128..512 to keep the tests fast
PUBLIC_NAMES = [n for n, s in generators.GENERATORS.items() if s.family != "ours"]


@pytest.fixture(scope="module")
def standin_dirs(tmp_path_factory):
  root = tmp_path_factory.mktemp("standins")
  return {name: standins.export_standin(name, str(root / name), resolution=STANDIN_RESOLUTION)
          for name in PUBLIC_NAMES}


def _call_and_grad(layer, inputs, z):
  with tf.GradientTape() as tape:
    tape.watch(z)
    images = layer(inputs)
    loss = tf.reduce_sum(tf.square(images))
  return images, tape.gradient(loss, z)


def _module_output(path, signature, **inputs):
  return tf.saved_model.load(path).signatures[signature](**inputs)["default"]


@pytest.mark.parametrize("name", PUBLIC_NAMES)
def test_standin_resolves_to_images_in_range_with_gradients(standin_dirs, name):
  spec = generators.GENERATORS[name]
  layer, metadata = generators.resolve_generator(
      standin_dirs[name], class_index=7 if spec.family == "biggan" else None)
  assert metadata["generator"] == name and metadata["standin"] is True
  assert metadata["family"] == spec.family and metadata["z_dim"] == spec.z_dim
  assert metadata["resolution"] == STANDIN_RESOLUTION and metadata["value_range"] == [-1.0, 1.0]
  z = tf.random.stateless_normal([3, spec.z_dim], seed=[1, 2]) * 0.5
  images, grad = _call_and_grad(layer, z, z)
  assert images.shape == (3, STANDIN_RESOLUTION, STANDIN_RESOLUTION, 3)
  assert float(tf.reduce_min(images)) >= -1.0 and float(tf.reduce_max(images)) <= 1.0
  assert float(tf.reduce_max(images)) - float(tf.reduce_min(images)) > 0.05  # not constant
  assert float(tf.reduce_sum(tf.abs(grad))) > 0.0
  assert layer.trainable_weights == [] and layer.weights == []  # frozen by construction


def test_standin_interface_matches_public_modules(standin_dirs):
  # the public modules' TF-Hub pages.
  sigs = generators.read_signatures(standin_dirs["progan-128"])
  assert sigs == {"default": {"inputs": {"default": [None, 512]},
                              "outputs": {"default": [None, 8, 8, 3]}}}
  sigs = generators.read_signatures(standin_dirs["biggan-256"])
  assert sigs["default"]["inputs"] == {"z": [None, 140], "y": [None, 1000], "truncation": []}
  assert generators.read_signatures(standin_dirs["biggan-deep-512"])["default"]["inputs"]["z"] == [None, 128]
  sigs = generators.read_signatures(standin_dirs["compare_gan-celebahq-128"])
  assert sorted(sigs) == ["discriminator", "generator"]
  assert sigs["generator"]["inputs"] == {"default": [None, 128]}
  assert sigs["discriminator"]["inputs"] == {"default": [None, 8, 8, 3]}
  # The public modules' format: TF1 Hub (one meta graph, empty tag set, tfhub_module.pb).
  from tensorflow.core.protobuf import saved_model_pb2
  import os
  for name in PUBLIC_NAMES:
    assert os.path.isfile(os.path.join(standin_dirs[name], "tfhub_module.pb"))
    proto = saved_model_pb2.SavedModel()
    with open(os.path.join(standin_dirs[name], "saved_model.pb"), "rb") as f:
      proto.ParseFromString(f.read())
    assert [list(g.meta_info_def.tags) for g in proto.meta_graphs] == [[]]
  import tensorflow_hub as tfhub
  assert tfhub.load(standin_dirs["progan-128"])._is_hub_module_v1 is True
  info = standins.read_standin_info(standin_dirs["biggan-128"])
  assert info["standin"] is True and info["imitates"] == "https://tfhub.dev/deepmind/biggan-128/2"
  assert "NOT the real" in info["note"]


def test_standin_default_resolution_is_the_real_one(tmp_path):
  path = standins.export_standin("progan-128", str(tmp_path / "progan"))
  assert generators.read_signatures(path)["default"]["outputs"]["default"] == [None, 128, 128, 3]
  # The module's own output is in [0, 1], as PG-GAN's.
  out = _module_output(path, "default", default=tf.random.stateless_normal([2, 512], seed=[0, 1]))
  assert float(tf.reduce_min(out)) >= 0.0 and float(tf.reduce_max(out)) <= 1.0


def test_zero_one_modules_are_mapped_to_minus_one_one(standin_dirs):
  for name, signature in (("progan-128", "default"), ("compare_gan-celebahq-128", "generator")):
    layer, metadata = generators.resolve_generator(standin_dirs[name])
    z = tf.random.stateless_uniform([2, metadata["z_dim"]], seed=[3, 4], minval=-1.0, maxval=1.0)
    raw = _module_output(standin_dirs[name], signature, default=z)
    np.testing.assert_allclose(layer(z).numpy(), 2.0 * raw.numpy() - 1.0, atol=1e-6)


def test_z_prior_metadata_per_family(standin_dirs):
  _, progan = generators.resolve_generator(standin_dirs["progan-128"])
  assert progan["z_distribution"] == "normal"
  _, biggan = generators.resolve_generator(standin_dirs["biggan-128"], class_index=0, truncation=0.4)
  assert biggan["z_distribution"] == "truncated_normal" and biggan["truncation"] == 0.4
  np.testing.assert_allclose(biggan["z_support"], [-0.8, 0.8])  # z = t * truncnorm(-2, 2)
  _, compare = generators.resolve_generator(standin_dirs["compare_gan-celebahq-128"])
  assert compare["z_distribution"] == "uniform" and compare["z_support"] == [-1.0, 1.0]
  assert compare["discriminator_signature"] == "discriminator"
  # P's head follows the metadata: BigGAN predictions stay inside [-2t, 2t].
  head = prior_lib.PriorHead(biggan["z_distribution"], biggan["z_support"])
  z = head(tf.constant([[-100.0, 0.0, 100.0]])).numpy()
  np.testing.assert_allclose(z, [[-0.8, 0.0, 0.8]], atol=1e-6)
  normal_head = prior_lib.PriorHead(progan["z_distribution"], progan["z_support"])
  np.testing.assert_allclose(normal_head(tf.constant([[-3.0, 5.0]])).numpy(), [[-3.0, 5.0]])


def test_biggan_class_and_truncation_reach_the_module(standin_dirs):
  path = standin_dirs["biggan-128"]
  conditional, metadata = generators.resolve_generator(path, truncation=0.5)
  assert metadata["condition_dim"] == 1000 and metadata["class_index"] is None
  fixed, fixed_metadata = generators.resolve_generator(path, class_index=5, truncation=0.5)
  assert fixed_metadata["condition_dim"] == 0
  z = tf.random.stateless_normal([2, 120], seed=[5, 6]) * 0.5
  y = tf.one_hot([5, 5], 1000)
  np.testing.assert_allclose(fixed(z).numpy(), conditional([z, y]).numpy(), atol=1e-6)
  direct = _module_output(path, "default", z=z, y=y, truncation=tf.constant(0.5))
  np.testing.assert_allclose(fixed(z).numpy(), direct.numpy(), atol=1e-6)  # [-1, 1] unchanged
  other_class = conditional([z, tf.one_hot([9, 9], 1000)])
  assert float(tf.reduce_max(tf.abs(other_class - fixed(z)))) > 1e-3
  images, grad = _call_and_grad(conditional, [z, y], z)
  assert float(tf.reduce_sum(tf.abs(grad))) > 0.0


def test_adapter_in_a_functional_model(standin_dirs):
  layer, metadata = generators.resolve_generator(standin_dirs["biggan-deep-128"], class_index=1)
  z_in = keras.Input((metadata["z_dim"],))
  model = keras.Model(z_in, layer(z_in))
  assert model.output_shape == (None, STANDIN_RESOLUTION, STANDIN_RESOLUTION, 3)
  assert model.trainable_weights == []
  assert model(np.zeros((2, 128), np.float32)).shape == (2, STANDIN_RESOLUTION, STANDIN_RESOLUTION, 3)


def test_compare_gan_discriminator(standin_dirs):
  path = standin_dirs["compare_gan-celebahq-128"]
  _, metadata = generators.resolve_generator(path)
  discriminator = generators.load_module_discriminator(metadata)
  images = tf.random.stateless_uniform([2, 8, 8, 3], seed=[7, 8], minval=-1.0, maxval=1.0)
  logits = discriminator(images)
  assert logits.shape == (2,)
  direct = _module_output(path, "discriminator", default=(images + 1.0) / 2.0)  # module takes [0, 1]
  np.testing.assert_allclose(logits.numpy(), direct.numpy()[:, 0], atol=1e-5)
  _, progan = generators.resolve_generator(standin_dirs["progan-128"])
  with pytest.raises(InputError, match="ships no discriminator"):
    generators.load_module_discriminator(progan)


def test_ours_is_metadata_driven(tmp_path):
  generator = keras.Sequential([keras.Input((4,)), keras.layers.Dense(8 * 8 * 3),
                                keras.layers.Reshape((8, 8, 3)), keras.layers.Activation("tanh")])
  path = str(tmp_path / "ours")
  hub.export_generator(generator, path, metadata=hub.gan_metadata(resolution=8, channels=3, z_dim=4))
  layer, metadata = generators.resolve_generator(path)
  assert metadata["family"] == "ours" and metadata["z_distribution"] == "uniform"
  assert metadata["z_support"] == [-1.0, 1.0] and metadata["standin"] is False
  z = tf.constant([[0.1, -0.2, 0.3, 0.5]])
  np.testing.assert_allclose(layer(z).numpy(), generator(z).numpy(), atol=1e-5)
  with pytest.raises(InputError, match="not class-conditional"):
    generators.resolve_generator(path, class_index=3)


def test_errors(standin_dirs, tmp_path):
  with pytest.raises(InputError, match=r"--generator=stylegan: unknown generator .*progan-128.*biggan-deep-512"):
    generators.resolve_generator("stylegan")
  with pytest.raises(InputError, match="--generator=ours: give the directory"):
    generators.resolve_generator("ours")
  for bad in (1000, -1):
    with pytest.raises(InputError, match=rf"--class_index={bad}: biggan-128 has 1000 classes \(0..999\)"):
      generators.resolve_generator(standin_dirs["biggan-128"], class_index=bad)
  with pytest.raises(InputError, match=r"--truncation=1.5: .*\[0.02, 1.0\]"):
    generators.resolve_generator(standin_dirs["biggan-128"], truncation=1.5)
  with pytest.raises(InputError, match="--class_index=2: .* not class-conditional"):
    generators.resolve_generator(standin_dirs["progan-128"], class_index=2)
  with pytest.raises(InputError, match="--truncation=0.5: only BigGAN"):
    generators.resolve_generator(standin_dirs["compare_gan-celebahq-128"], truncation=0.5)
  with pytest.raises(InputError, match="no stand-in"):
    standins.export_standin("ours", str(tmp_path / "x"))

  class Foreign(tf.Module):
    @tf.function(input_signature=[tf.TensorSpec([None, 3], tf.float32, name="pixels")])
    def serve(self, pixels):
      return {"out": pixels * 2.0}

  foreign = Foreign()
  foreign_path = str(tmp_path / "foreign")
  tf.saved_model.save(foreign, foreign_path, signatures={"serving_default": foreign.serve})
  with pytest.raises(InputError, match=r"match no generator adapter \(found: serving_default\(pixels\)"):
    generators.resolve_generator(foreign_path, flag="--model")
  empty = tmp_path / "empty"
  empty.mkdir()
  with pytest.raises(InputError, match="no saved_model.pb"):
    generators.resolve_generator(str(empty))


def test_remote_handle_without_network_says_how_to_pass_a_local_copy(monkeypatch, tmp_path):
  # Point the cache at an empty directory so a cached copy cannot hide the failure.
  monkeypatch.setenv("TFHUB_CACHE_DIR", str(tmp_path / "cache"))
  with pytest.raises(InputError) as info:
    generators.resolve_generator("biggan-128")
  message = str(info.value)
  assert message.startswith("--generator=biggan-128: the handle https://tfhub.dev/deepmind/biggan-128/2")
  assert "download it on a machine with network and pass the local path" in message
  assert "\n" not in message


def test_standin_spec_exports_once_into_the_cache(tmp_path, monkeypatch):
  monkeypatch.setenv("PGI_TF_CACHE", str(tmp_path / "cache"))
  layer, metadata = generators.resolve_generator("standin:progan-128@8")
  path = str(tmp_path / "cache" / "standins" / "progan-128@8")
  assert layer.handle == path and metadata["generator"] == "progan-128" and metadata["standin"] is True
  assert metadata["resolution"] == 8
  stamp = __import__("os").path.getmtime(path + "/saved_model.pb")
  generators.resolve_generator("standin:progan-128@8")  # reused, not exported again
  assert __import__("os").path.getmtime(path + "/saved_model.pb") == stamp
  with pytest.raises(InputError, match=r"--generator=standin:stylegan: no stand-in named 'stylegan'"):
    generators.resolve_generator("standin:stylegan")
  with pytest.raises(InputError, match=r"--generator=standin:progan-128@big: the stand-in resolution"):
    generators.resolve_generator("standin:progan-128@big")


def test_compare_gan_probability_output_becomes_a_logit(tmp_path):
  # compare_gan's own export: D's output "prediction" = sigmoid(logits) (modular_gan._module_fn).
  weights = tf.Variable(tf.random.stateless_normal([4 * 4 * 3], [1, 2]) * 0.1)
  module = tf.Module()
  module.weights = weights

  @tf.function(input_signature=[tf.TensorSpec([None, 4, 4, 3], tf.float32, name="images")])
  def discriminator(images):
    logits = tf.reshape(images, [-1, 48]) @ weights[:, None]
    return {"prediction": tf.nn.sigmoid(logits)}

  path = str(tmp_path / "d")
  tf.saved_model.save(module, path, signatures={"discriminator": discriminator})
  from pgi_tf.generators import adapters
  layer = adapters.CompareGANDiscriminatorAdapter(path, signature="discriminator", input_key="images",
                                                  output_key="prediction")
  images = tf.random.stateless_uniform([5, 4, 4, 3], [3, 4], -1.0, 1.0)
  module_images = (images + 1.0) / 2.0  # the module's [0, 1]
  expected = tf.reshape(tf.reshape(module_images, [-1, 48]) @ weights[:, None], [-1])
  assert layer.outputs_probability
  np.testing.assert_allclose(layer(images).numpy(), expected.numpy(), atol=1e-4)
