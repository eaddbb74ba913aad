"""What the demo tests share: a urllib client for the page's API and PNG helpers (no TensorFlow, so
the browser test's skip / fail decision is cheap to check in a subprocess)."""

from __future__ import annotations

import base64
import io
import json
import os
import urllib.error
import urllib.request

import numpy as np
from PIL import Image

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SAMPLES = os.path.join(REPO, "hub_modules", "samples", "images")
SAMPLE_MASKS = os.path.join(REPO, "hub_modules", "samples", "masks")
BUNDLED_MODEL = os.path.join(REPO, "hub_modules", "fashion_mnist32")
SAMPLE = "test00000_ankle_boot.png"


def png(pixels: np.ndarray, *, mode: str | None = None) -> bytes:
  pixels = np.asarray(pixels, np.uint8)
  if pixels.ndim == 3 and pixels.shape[-1] == 1:
    pixels = pixels[..., 0]
  buffer = io.BytesIO()
  Image.fromarray(pixels, mode=mode).save(buffer, format="PNG")
  return buffer.getvalue()


def decode_png(data: bytes) -> np.ndarray:
  with Image.open(io.BytesIO(data)) as image:
    assert image.format == "PNG"
    return np.asarray(image)


def decode_data_url(url: str) -> np.ndarray:
  prefix = "data:image/png;base64,"
  assert url.startswith(prefix), url[:40]
  return decode_png(base64.b64decode(url[len(prefix):]))


def read_png(path: str) -> np.ndarray:
  with Image.open(path) as image:
    return np.asarray(image)


def write_png(path: str, pixels: np.ndarray) -> str:
  with open(path, "wb") as f:
    f.write(png(pixels))
  return path


def read(path: str) -> bytes:
  with open(path, "rb") as f:
    return f.read()


def get(url: str, headers: dict | None = None) -> tuple[int, bytes, str]:
  try:
    with urllib.request.urlopen(urllib.request.Request(url, headers=headers or {}), timeout=60) as response:
      return response.status, response.read(), response.headers.get("Content-Type", "")
  except urllib.error.HTTPError as e:
    return e.code, e.read(), e.headers.get("Content-Type", "")


def post(url: str, *, body: bytes, content_type: str = "application/json") -> tuple[int, dict]:
  request = urllib.request.Request(url + "api/inpaint", data=body, headers={"Content-Type": content_type})
  try:
    with urllib.request.urlopen(request, timeout=120) as response:
      return response.status, json.loads(response.read())
  except urllib.error.HTTPError as e:
    return e.code, json.loads(e.read())


def inpaint(url: str, image: bytes, mask: bytes, **fields) -> tuple[int, dict]:
  """POSTs image + mask as the page does (the mask as a data URL, the image as plain base64)."""
  body = {"image": base64.b64encode(image).decode(), "mask": "data:image/png;base64," + base64.b64encode(mask).decode(),
          **fields}
  return post(url, body=json.dumps(body).encode())
