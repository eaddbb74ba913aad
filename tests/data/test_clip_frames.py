"""moving_fashion_mnist_frames: the GAN of §4.3's fair test sees exactly the sequence presets' frames."""

import numpy as np

from pgi_tf.data import datasets
from pgi_tf.data import moving_fashion_mnist


def test_clip_frames_are_the_clips_frames_in_order():
  clips = moving_fashion_mnist.moving_fashion_mnist(split="val", num_clips=3, num_frames=4, seed=5)
  frames = moving_fashion_mnist.clip_frames(split="val", num_clips=3, num_frames=4, seed=5)
  assert frames.shape == (12, 32, 32) and frames.dtype == np.uint8
  np.testing.assert_allclose(frames.astype(np.float32) / 127.5 - 1.0, clips.reshape(12, 32, 32), atol=0.5 / 127.5)


def test_frames_source_defaults_to_the_sequence_presets_clips(monkeypatch):
  from configs import fashion_mnist32_sequence_prior
  config = fashion_mnist32_sequence_prior.get_config()
  defaults = moving_fashion_mnist.SEQUENCE_TRAINING_CLIPS
  assert (defaults["num_clips"], defaults["num_frames"], defaults["seed"]) == (
      config.data.num_clips, config.sequence.window, config.seed)
  assert datasets.count_examples(source="moving_fashion_mnist_frames", data_dir=None, split="train") == 160000
  # Render 2 clips, not 20,000: the order and the pixels are what is checked.
  monkeypatch.setitem(moving_fashion_mnist.SEQUENCE_TRAINING_CLIPS, "num_clips", 2)
  dataset = datasets.make_image_dataset(source="moving_fashion_mnist_frames", data_dir=None, split="test",
                                        resolution=32, channels=1, batch_size=8, shuffle=False, repeat=False)
  first = next(iter(dataset)).numpy()
  clip = moving_fashion_mnist.moving_fashion_mnist(split="test", num_clips=1, num_frames=8, seed=0)[0]
  # Frames of clip 0 in order, at the clips' own 32 px (uint8 round trip: half a grey level).
  np.testing.assert_allclose(first, clip, atol=0.5 / 127.5 + 1e-6)
