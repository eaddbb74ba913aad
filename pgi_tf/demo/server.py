"""The demo page's HTTP server: the Python standard library's ThreadingHTTPServer, no framework.

  GET  /                     page.html (canvas + brush, plain JavaScript)
  GET  /api/info             the model, its modes (disabled ones with a note), the limits, the samples
  GET  /samples/<name>       a bundled sample image, its bytes unchanged (so it inpaints as the file does)
  GET  /sample_masks/<name>  its mask PNG, when the samples folder has one
  POST /api/inpaint          JSON {image, mask: base64 or data URL, mode, num_candidates, iterations,
                             refine_steps, seed, grayscale, name} -> JSON {inpainted, generated,
                             candidates: PNG data URLs, inference_ms, total_ms, ...}; errors are JSON
                             {error: one line}: 400 bad input, 403 another Host, 411 no length,
                             413 too large.

Safety: binds 127.0.0.1 unless told otherwise, and then answers only requests addressed to it
(Host header; DNS rebinding) and only JSON POSTs (no cross-site form posts); the request body is
capped (413 before anything is decoded) and so are the image's pixels (413, read from its header
before decoding); only PNG / JPEG images and PNG masks are accepted; the only files written are
each request's uploads, in a folder of the server's temp dir (tempfile.mkdtemp) removed when the
request ends, and that dir is removed by close().
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import http.server
import importlib.resources
import io
import json
import logging
import os
import shutil
import tempfile
import threading
import time

import numpy as np
from PIL import Image

from pgi_tf.data import images as images_lib
from pgi_tf.demo import pipeline
from pgi_tf.errors import InputError

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
JPEG_SIGNATURE = b"\xff\xd8\xff"
_DRAIN_FACTOR = 16  # a too-large body is read (and dropped) up to this many limits, so the client sees the 413


@dataclasses.dataclass(frozen=True)
class Limits:
  max_upload_bytes: int = 8 * 1024 * 1024
  max_pixels: int = 2048 * 2048
  max_iterations: int = 5000


class RequestError(Exception):
  """A request the server refuses: HTTP status + the one line the page shows."""

  def __init__(self, status: int, message: str):
    super().__init__(message)
    self.status = status


def png_bytes(pixels: np.ndarray) -> bytes:
  """uint8 H x W x C -> PNG bytes, encoded as `pgi_tf.visualize.save_png` writes its files."""
  if pixels.ndim == 3 and pixels.shape[-1] == 1:
    pixels = pixels[..., 0]
  buffer = io.BytesIO()
  Image.fromarray(pixels).save(buffer, format="PNG")
  return buffer.getvalue()


def data_url(png: bytes) -> str:
  return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def decode_upload(value, *, field: str) -> bytes:
  """A base64 string or data URL -> bytes; RequestError(400) naming the field otherwise."""
  if not isinstance(value, str) or not value:
    raise RequestError(400, f"{field}: missing (a base64 PNG / JPEG or a data: URL)")
  if value.startswith("data:"):
    value = value.split(",", 1)[1] if "," in value else ""
  try:
    return base64.b64decode(value, validate=True)
  except (binascii.Error, ValueError):
    raise RequestError(400, f"{field}: not valid base64") from None


def _int_field(body: dict, name: str, default: int | None, *, low: int, high: int) -> int | None:
  value = body.get(name, default)
  if value is None or value == "":
    return default
  if isinstance(value, bool) or not isinstance(value, (int, str)) or not str(value).strip().lstrip("-").isdigit():
    raise RequestError(400, f"{name}={value!r}: expected an integer in [{low}, {high}]")
  number = int(value)
  if not low <= number <= high:
    raise RequestError(400, f"{name}={number}: expected an integer in [{low}, {high}]")
  return number


def display_name(name) -> str:
  """The uploaded file's name for messages only (never a path on disk)."""
  text = os.path.basename(str(name or "upload")).strip()
  return "".join(c for c in text if c.isprintable())[:80] or "upload"


class DemoServer:
  """Serves the page for one DemoModel. `start()` serves from a thread; `close()` stops and cleans up."""

  def __init__(self, model: pipeline.DemoModel, *, host: str = "127.0.0.1", port: int = 8765,
               samples_dir: str = "", sample_masks_dir: str = "", limits: Limits = Limits(),
               temp_root: str | None = None):
    self.model = model
    self.limits = limits
    self.samples = self._list_samples(samples_dir, sample_masks_dir)
    self.page = importlib.resources.files(__package__).joinpath("page.html").read_bytes()
    self._thread: threading.Thread | None = None
    self.httpd = http.server.ThreadingHTTPServer((host, port), _handler_for(self))  # may fail: before mkdtemp
    self.httpd.daemon_threads = True
    self.temp_dir = tempfile.mkdtemp(prefix="pgi_tf_demo-", dir=temp_root)
    bound = self.httpd.server_address[1]
    loopback = host in ("127.0.0.1", "localhost", "::1") or host.startswith("127.")
    self.allowed_hosts = ({f"{name}:{bound}" for name in (host, "127.0.0.1", "localhost", "[::1]")}
                          if loopback else None)

  @property
  def url(self) -> str:
    host, port = self.httpd.server_address[:2]
    return f"http://{host}:{port}/"

  @staticmethod
  def _list_samples(samples_dir: str, masks_dir: str) -> dict[str, dict]:
    """name -> {image, mask or ""}: the only files GET /samples serves (no path ever comes from a URL)."""
    if not samples_dir or not os.path.isdir(samples_dir):
      return {}
    samples = {}
    for path in images_lib.list_image_files(samples_dir):
      name = os.path.relpath(path, samples_dir).replace(os.sep, "/")
      mask = os.path.join(masks_dir, os.path.splitext(name)[0] + ".png") if masks_dir else ""
      samples[name] = {"image": path, "mask": mask if mask and os.path.isfile(mask) else ""}
    return samples

  def info(self) -> dict:
    return {**self.model.info(), "limits": dataclasses.asdict(self.limits),
            "samples": [{"name": name, "has_mask": bool(s["mask"])} for name, s in self.samples.items()]}

  # ------------------------------------------------------------------ POST /api/inpaint
  def inpaint(self, body: dict) -> dict:
    started = time.perf_counter()
    mode = body.get("mode", "single")
    if not isinstance(mode, str):
      raise RequestError(400, f"mode={mode!r}: expected a string")
    num_candidates = _int_field(body, "num_candidates", 1, low=1, high=1024)
    iterations = _int_field(body, "iterations", None, low=1, high=self.limits.max_iterations)
    refine_steps = _int_field(body, "refine_steps", 100, low=0, high=self.limits.max_iterations)
    seed = _int_field(body, "seed", 0, low=0, high=2**31 - 1)
    grayscale = bool(body.get("grayscale", False))
    name = display_name(body.get("name"))
    image = decode_upload(body.get("image"), field="image")
    mask = decode_upload(body.get("mask"), field="mask")
    if image.startswith(PNG_SIGNATURE):
      suffix = ".png"
    elif image.startswith(JPEG_SIGNATURE):
      suffix = ".jpg"
    else:
      raise RequestError(400, f"image {name}: not a PNG or JPEG file")
    if not mask.startswith(PNG_SIGNATURE):
      raise RequestError(400, "mask: not a PNG file (white = hole, black = known)")
    request_dir = tempfile.mkdtemp(prefix="request-", dir=self.temp_dir)
    image_path, mask_path = os.path.join(request_dir, "image" + suffix), os.path.join(request_dir, "mask.png")
    try:
      for path, data in ((image_path, image), (mask_path, mask)):
        with open(path, "wb") as f:
          f.write(data)
      try:
        result = self.model.inpaint_files(
            image_path, mask_path, mode=mode, num_candidates=num_candidates, iterations=iterations,
            refine_steps=refine_steps, seed=seed, grayscale=grayscale, max_pixels=self.limits.max_pixels)
      except InputError as e:  # messages name the temp files: say what the user sent instead
        message = str(e).replace(image_path, f"image {name}").replace(mask_path, "mask")
        raise RequestError(413 if isinstance(e, pipeline.ImageTooLarge) else 400, message) from None
    finally:
      shutil.rmtree(request_dir, ignore_errors=True)
    height, width = result.inpainted.shape[:2]
    return {"inpainted": data_url(png_bytes(result.inpainted)), "generated": data_url(png_bytes(result.generated)),
            "candidates": None if result.candidates is None else data_url(png_bytes(result.candidates)),
            "inference_ms": round(result.inference_ms, 2),
            "total_ms": round(1000 * (time.perf_counter() - started), 2),
            "mode": result.mode, "iterations": result.iterations, "width": width, "height": height,
            "out_of_domain": result.out_of_domain,
            "resolution": self.model.models.resolution,
            "num_candidates": num_candidates if mode == "candidates" else None}

  # ------------------------------------------------------------------ life cycle
  def start(self) -> "DemoServer":
    self._thread = threading.Thread(target=self.httpd.serve_forever, name="pgi_tf-demo", daemon=True)
    self._thread.start()
    return self

  def serve_forever(self) -> None:
    self.httpd.serve_forever()

  def close(self) -> None:
    """Stops serving (if a thread serves) and removes the temp dir."""
    if self._thread is not None:
      self.httpd.shutdown()
      self._thread.join()
      self._thread = None
    self.httpd.server_close()
    shutil.rmtree(self.temp_dir, ignore_errors=True)

  def __enter__(self) -> "DemoServer":
    return self

  def __exit__(self, *exc) -> None:
    self.close()


def _handler_for(server: DemoServer):
  class Handler(http.server.BaseHTTPRequestHandler):
    server_version = "pgi_tf-demo"
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args):  # noqa: A002 -- the base class's name
      logging.info("demo: %s %s", self.address_string(), format % args)

    def _send(self, status: int, body: bytes, content_type: str, *, close: bool = False) -> None:
      self.send_response(status)
      self.send_header("Content-Type", content_type)
      self.send_header("Content-Length", str(len(body)))
      self.send_header("Cache-Control", "no-store")
      self.send_header("X-Content-Type-Options", "nosniff")
      if close:
        self.send_header("Connection", "close")
        self.close_connection = True
      self.end_headers()
      self.wfile.write(body)

    def _json(self, status: int, value: dict, *, close: bool = False) -> None:
      self._send(status, json.dumps(value).encode(), "application/json", close=close)

    def _host_refused(self) -> bool:
      """On a loopback address, only requests addressed to it: a web page elsewhere cannot reach the
      server through a DNS name rebound to 127.0.0.1 (its Host header names that domain)."""
      if server.allowed_hosts is None or self.headers.get("Host", "") in server.allowed_hosts:
        return False
      self._json(403, {"error": f"Host {self.headers.get('Host', '')!r}: this server answers only "
                                f"{sorted(server.allowed_hosts)[0]}"}, close=True)
      return True

    def do_GET(self):  # noqa: N802 -- http.server's name
      if self._host_refused():
        return None
      path = self.path.split("?", 1)[0]
      if path in ("/", "/index.html"):
        return self._send(200, server.page, "text/html; charset=utf-8")
      if path == "/api/info":
        return self._json(200, server.info())
      for prefix, key in (("/samples/", "image"), ("/sample_masks/", "mask")):
        if path.startswith(prefix):
          sample = server.samples.get(path[len(prefix):])
          if sample and sample[key]:
            with open(sample[key], "rb") as f:
              data = f.read()
            kind = "image/png" if data.startswith(PNG_SIGNATURE) else "image/jpeg"
            return self._send(200, data, kind)
      return self._json(404, {"error": f"{path}: not found"})

    def _drain(self, length: int) -> None:
      """Reads and drops a refused body (up to a bound), so the client reads the answer, not a reset."""
      left = min(length, _DRAIN_FACTOR * server.limits.max_upload_bytes)
      while left > 0:
        chunk = self.rfile.read(min(left, 1 << 20))
        if not chunk:
          break
        left -= len(chunk)

    def do_POST(self):  # noqa: N802
      if self._host_refused():
        return None
      if self.path.split("?", 1)[0] != "/api/inpaint":
        return self._json(404, {"error": f"{self.path}: not found"}, close=True)
      length_text = self.headers.get("Content-Length")
      if length_text is None or not length_text.isdigit():
        return self._json(411, {"error": "the request needs a Content-Length"}, close=True)
      length, limit = int(length_text), server.limits.max_upload_bytes
      if length > limit:
        self._drain(length)
        return self._json(413, {"error": f"upload is {length / 2**20:.1f} MB, the limit is {limit / 2**20:g} MB "
                                         "(--max_upload_mb)"}, close=True)
      data = self.rfile.read(length)
      # JSON only: a form or text/plain POST from another site's page (no CORS preflight) is refused.
      if self.headers.get("Content-Type", "").split(";")[0].strip().lower() != "application/json":
        return self._json(400, {"error": "the request body must be JSON (Content-Type: application/json)"})
      try:
        try:
          body = json.loads(data)
        except (UnicodeDecodeError, json.JSONDecodeError):
          raise RequestError(400, "the request body is not JSON") from None
        if not isinstance(body, dict):
          raise RequestError(400, "the request body must be a JSON object")
        return self._json(200, server.inpaint(body))
      except RequestError as e:
        return self._json(e.status, {"error": str(e)})
      except Exception as e:  # noqa: BLE001 -- one bad request must not stop the page
        logging.exception("demo: request failed")
        return self._json(500, {"error": f"internal error: {type(e).__name__}: {' '.join(str(e).split())[:300]}"})

  return Handler
