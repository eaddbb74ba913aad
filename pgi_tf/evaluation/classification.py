"""§6.3.3's measure of the masked-image class predictor: top-1 on masked vs unmasked images."""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf


def logits(predictor, masked_images, masks) -> tf.Tensor:
  if isinstance(predictor, keras.Model):
    return predictor([masked_images, masks], training=False)
  return predictor(masked_images, masks)


def top1_accuracy(predictor, *, images, labels, masks, batch_size: int = 64) -> dict[str, float]:
  """The paper's two numbers: top-1 on masked images (1 - M) * I and on the unmasked I.

  predictor: a loaded ClassPredictor, or a class predictor keras.Model. images [N,R,R,3] in
  [-1, 1], labels [N] ints, masks [N,R,R,1] (1 = hole); NumPy or tensors.
  """
  images = np.asarray(images, np.float32)
  labels = np.asarray(labels).reshape(-1)
  masks = np.asarray(masks, np.float32)
  correct = {"top1_masked": 0, "top1_unmasked": 0}
  for start in range(0, len(labels), batch_size):
    batch, hole = images[start:start + batch_size], masks[start:start + batch_size]
    truth = labels[start:start + batch_size]
    for key, (masked, mask) in {"top1_masked": ((1.0 - hole) * batch, hole),
                                "top1_unmasked": (batch, np.zeros_like(hole))}.items():
      predicted = np.argmax(np.asarray(logits(predictor, masked, mask)), axis=-1)
      correct[key] += int(np.sum(predicted == truth))
  return {key: value / max(len(labels), 1) for key, value in correct.items()}
