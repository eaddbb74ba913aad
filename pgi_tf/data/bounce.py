"""Motion that bounces off the borders: the drift of moving clip holes (`clip_masks`) and the
garments of moving Fashion-MNIST (`moving_fashion_mnist`, as in Moving MNIST)."""


def reflect(position: int, step: int, limit: int) -> tuple[int, int]:
  """position + step reflected into [0, limit]: (new position, step with its sign flipped if it
  bounced). One reflection is enough because |step| <= limit."""
  position += step
  if position < 0:
    position, step = -position, -step
  elif position > limit:
    position, step = 2 * limit - position, -step
  return min(max(position, 0), limit), step
