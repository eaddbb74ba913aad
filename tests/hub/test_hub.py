"""Hub modules: export -> load -> identical outputs; the layer is frozen; gradients reach z."""

import json
import os

import keras
import numpy as np
import pytest
import tensorflow as tf

from pgi_tf import hub
from pgi_tf.errors import InputError
from pgi_tf.models import dcgan

CONFIG = dcgan.DCGANConfig(resolution=16, channels=1, z_dim=6, generator_base_channels=8,
                           discriminator_base_channels=8)


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
  root = tmp_path_factory.mktemp("modules")
  keras.utils.set_random_seed(0)
  generator, discriminator = dcgan.build_gan(CONFIG)
  metadata = hub.gan_metadata(resolution=16, channels=1, z_dim=6)
  hub.export_generator(generator, str(root / "generator"), metadata=metadata)
  hub.export_discriminator(discriminator, str(root / "discriminator"), metadata=metadata)
  return root, generator, discriminator


def test_export_load_identical_outputs(exported):
  root, generator, discriminator = exported
  z = tf.random.uniform([4, 6], -1, 1, seed=5)
  frozen_g = hub.load_generator(str(root / "generator"))
  frozen_d = hub.load_discriminator(str(root / "discriminator"))
  np.testing.assert_array_equal(frozen_g(z).numpy(), generator(z, training=False).numpy())
  images = generator(z, training=False)
  np.testing.assert_array_equal(frozen_d(images).numpy(), discriminator(images, training=False).numpy())


def test_metadata_written(exported):
  root, _, _ = exported
  metadata = json.loads((root / "generator" / hub.METADATA_FILENAME).read_text())
  assert metadata["kind"] == "generator" and metadata["z_dim"] == 6
  assert metadata["z_distribution"] == "uniform" and metadata["z_support"] == [-1.0, 1.0]
  assert metadata["value_range"] == [-1.0, 1.0] and metadata["input_names"] == ["z"]
  assert hub.load_generator(str(root / "generator")).metadata["resolution"] == 16


def test_gradients_reach_z_and_layer_is_frozen(exported):
  root, _, _ = exported
  frozen_g = hub.load_generator(str(root / "generator"))
  frozen_d = hub.load_discriminator(str(root / "discriminator"))
  assert frozen_g.trainable_weights == [] and frozen_d.trainable_weights == []
  assert frozen_g.module_variables, "module variables should exist (they are just not Keras weights)"
  z = tf.Variable(tf.random.uniform([2, 6], -1, 1, seed=6))
  with tf.GradientTape() as tape:
    score = tf.reduce_sum(frozen_d(frozen_g(z)))
  gradient = tape.gradient(score, z)
  assert gradient is not None and float(tf.reduce_sum(tf.abs(gradient))) > 0


def test_training_a_model_that_uses_the_layer_leaves_module_bit_identical(exported):
  root, _, _ = exported
  frozen_g = hub.load_generator(str(root / "generator"))
  before = [v.numpy().copy() for v in frozen_g.module_variables]
  # A tiny "prior predictor": trainable dense -> frozen G; fit it to a target image.
  predictor = keras.Sequential([keras.Input((3,)), keras.layers.Dense(6, activation="tanh")])
  optimizer = keras.optimizers.Adam(1e-2)
  x = tf.random.normal([4, 3], seed=7)
  target = tf.zeros([4, 16, 16, 1])
  for _ in range(3):
    with tf.GradientTape() as tape:
      loss = tf.reduce_mean(tf.abs(frozen_g(predictor(x)) - target))
    grads = tape.gradient(loss, predictor.trainable_variables)
    optimizer.apply_gradients(zip(grads, predictor.trainable_variables))
  assert float(tf.reduce_sum(tf.abs(grads[0]))) > 0
  after = [v.numpy() for v in frozen_g.module_variables]
  for b, a in zip(before, after):
    np.testing.assert_array_equal(b, a)
  # And the frozen module does not leak into the predictor's checkpoints.
  ckpt_vars = {name for name, _ in tf.train.list_variables(
      tf.train.Checkpoint(layer=frozen_g).write(os.path.join(str(root), "probe")))}
  assert not any("generator" in name for name in ckpt_vars), ckpt_vars


def test_conditional_module_round_trip(tmp_path):
  config = dcgan.DCGANConfig(resolution=16, channels=3, z_dim=4, condition_dim=3,
                             generator_base_channels=8, discriminator_base_channels=8)
  generator, discriminator = dcgan.build_gan(config)
  metadata = hub.gan_metadata(resolution=16, channels=3, z_dim=4, condition_dim=3)
  hub.export_generator(generator, str(tmp_path / "g"), metadata=metadata)
  hub.export_discriminator(discriminator, str(tmp_path / "d"), metadata=metadata)
  frozen_g, frozen_d = hub.load_generator(str(tmp_path / "g")), hub.load_discriminator(str(tmp_path / "d"))
  assert frozen_g.input_names == ["z", "condition"] and frozen_d.input_names == ["images", "condition"]
  z, c = tf.random.uniform([2, 4], seed=1), tf.random.uniform([2, 3], seed=2)
  np.testing.assert_array_equal(frozen_g([z, c]).numpy(), generator([z, c], training=False).numpy())
  images = generator([z, c])
  np.testing.assert_array_equal(frozen_d({"images": images, "condition": c}).numpy(),
                                discriminator([images, c], training=False).numpy())


def test_reexport_replaces_atomically(tmp_path):
  generator = dcgan.build_generator(CONFIG)
  metadata = hub.gan_metadata(resolution=16, channels=1, z_dim=6)
  path = str(tmp_path / "g")
  hub.export_generator(generator, path, metadata=metadata)
  hub.export_generator(generator, path, metadata=dict(metadata, trained_steps=7))
  assert hub.read_metadata(path)["trained_steps"] == 7
  assert sorted(os.listdir(tmp_path)) == ["g"], "no temp or backup directories left behind"


def test_errors_name_the_flag(tmp_path):
  with pytest.raises(InputError, match=r"--generator=.*nowhere: no such module directory"):
    hub.load_generator(str(tmp_path / "nowhere"))
  (tmp_path / "empty").mkdir()
  with pytest.raises(InputError, match=r"--generator=.*not a SavedModel"):
    hub.load_generator(str(tmp_path / "empty"))


def test_remote_handle_without_network_says_how_to_fix(monkeypatch):
  import tensorflow_hub

  def no_network(handle, *args, **kwargs):
    raise OSError("Temporary failure in name resolution")

  monkeypatch.setattr(tensorflow_hub, "load", no_network)
  with pytest.raises(InputError, match=r"--generator=https://tfhub.dev/google/progan-128/1: cannot download.*local path"):
    hub.load_generator("https://tfhub.dev/google/progan-128/1")


def test_hub_module_layer_round_trips_through_a_keras_file_in_a_fresh_process(tmp_path_factory, tmp_path):
  """HubModuleLayer is registered Keras-serializable: a .keras model holding it reloads in a new
  process with only `import pgi_tf.hub` (no custom_objects) and gives the same outputs."""
  import subprocess
  import sys
  import keras
  import numpy as np
  from pgi_tf import hub as hub_lib
  from tests import tiny_models
  tiny = tiny_models.shared_model_dirs(tmp_path_factory)
  z = keras.Input((tiny_models.Z_DIM,), name="z")
  model = keras.Model(z, hub_lib.HubModuleLayer(tiny.generator, flag="--generator")(z))
  path = str(tmp_path / "g.keras")
  model.save(path)
  z_values = np.random.default_rng(0).uniform(-1, 1, (3, tiny_models.Z_DIM)).astype(np.float32)
  np.save(tmp_path / "z.npy", z_values)
  script = ("import numpy as np, keras, pgi_tf.hub; m = keras.saving.load_model(%r); "
            "np.save(%r, np.asarray(m(np.load(%r))))" % (path, str(tmp_path / "out.npy"), str(tmp_path / "z.npy")))
  run = subprocess.run([sys.executable, "-c", script], cwd=tiny_models.REPO, capture_output=True, text=True,
                       timeout=300)
  assert run.returncode == 0, run.stderr[-2000:]
  np.testing.assert_array_equal(np.load(tmp_path / "out.npy"), np.asarray(model(z_values)))
