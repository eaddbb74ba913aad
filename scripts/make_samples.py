"""Writes hub_modules/samples/: 8 Fashion-MNIST test images (never seen in training) and masks.

Run once from the repo root: python scripts/make_samples.py. The masks show each mask kind
the project supports (white = hole): square, 10% / 40% ratio, central, rectangle, free-form.
"""

import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from pgi_tf import visualize  # noqa: E402
from pgi_tf.data import fashion_mnist  # noqa: E402
from pgi_tf.data import masks  # noqa: E402

OUT = "hub_modules/samples"
SPECS = [("square", masks.MaskSpec(kind="square", size=12)),
         ("ratio10", masks.MaskSpec(kind="ratio", hole_ratio=0.1)),
         ("ratio40", masks.MaskSpec(kind="ratio", hole_ratio=0.4)),
         ("central", masks.MaskSpec(kind="central", size=14)),
         ("rectangle", masks.MaskSpec(kind="rectangle", min_side_fraction=0.35, max_side_fraction=0.5)),
         ("free_form", masks.MaskSpec(kind="free_form", max_hole_ratio=0.35)),
         ("ratio25", masks.MaskSpec(kind="ratio", hole_ratio=0.25)),
         ("square_b", masks.MaskSpec(kind="square", size=16))]


def main():
  images, labels = fashion_mnist.load_fashion_mnist(split="test")
  rng = np.random.default_rng(2020)
  picks = [int(np.flatnonzero(labels == c)[0]) for c in (0, 1, 2, 3, 5, 7, 8, 9)]
  os.makedirs(os.path.join(OUT, "images"), exist_ok=True)
  os.makedirs(os.path.join(OUT, "masks"), exist_ok=True)
  for (kind, spec), index in zip(SPECS, picks):
    name = f"test{index:05d}_{fashion_mnist.CLASS_NAMES[labels[index]].split('/')[0].lower().replace(' ', '_')}"
    visualize.save_png(os.path.join(OUT, "images", name + ".png"), np.pad(images[index], 2))
    mask = masks.sample_masks(spec, count=1, height=32, width=32, rng=rng)[0]
    masks.save_mask_png(os.path.join(OUT, "masks", name + ".png"), mask)
    print(name, kind, f"{mask.mean():.2f}")


if __name__ == "__main__":
  main()
