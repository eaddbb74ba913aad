"""Inputs for scripts/behaviour_hashes.sh: two moving Fashion-MNIST clips as frame folders and one
batch of the bundled samples (float and uint8); with --export, the end-to-end inpainters of the
bundled M_z and M_{z+S} written from their P, G (and f). Usage: behaviour_inputs.py [--export] DIR"""

import os
import sys

import numpy as np
from PIL import Image

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))


def write_inputs(out: str) -> None:
  from pgi_tf.data import sequences
  clips = sequences.moving_fashion_mnist(split="test", num_clips=2, num_frames=10, seed=7)
  for c, clip in enumerate(clips):
    os.makedirs(os.path.join(out, "clips", f"clip{c}"), exist_ok=True)
    for t, frame in enumerate(clip):
      pixels = np.round((frame[..., 0] + 1.0) * 127.5).astype(np.uint8)
      Image.fromarray(pixels).save(os.path.join(out, "clips", f"clip{c}", f"{t:03d}.png"))
  names = sorted(os.listdir("hub_modules/samples/images"))
  images = np.stack([np.asarray(Image.open(os.path.join("hub_modules/samples/images", n)).convert("L")
                                .resize((32, 32), Image.BILINEAR)) for n in names])[..., None]
  masks = np.stack([np.asarray(Image.open(os.path.join("hub_modules/samples/masks", os.path.splitext(n)[0]
                                                       + ".png")).convert("L").resize((32, 32), Image.NEAREST))
                    for n in names])[..., None]
  np.savez(os.path.join(out, "batch.npz"), images=(images / 127.5 - 1.0).astype(np.float32),
           masks=(masks >= 128).astype(np.float32), images_uint8=images, masks_uint8=masks)


def export(out: str) -> None:
  try:
    from pgi_tf.inference.export import export_inpainter
  except ImportError:  # before the stage-shaped layout
    from pgi_tf.hub import export_inpainter
  bundled = "hub_modules/fashion_mnist32"
  export_inpainter(os.path.join(out, "m_z"), prior_predictor_path=f"{bundled}/prior_predictor",
                   generator_path=f"{bundled}/generator")
  bundled = "hub_modules/fashion_mnist32_silhouette"
  export_inpainter(os.path.join(out, "m_zs"), prior_predictor_path=f"{bundled}/prior_predictor",
                   generator_path=f"{bundled}/generator", keypoint_refiner_path=f"{bundled}/keypoint_refiner")


if __name__ == "__main__":
  if sys.argv[1] == "--export":
    export(sys.argv[2])
  else:
    write_inputs(sys.argv[1])
