r"""Export the end-to-end inpainter (P + G (+ S) + Eq. 8) for serving: one SavedModel, and a .tflite file.

  python -m binaries.export --export_dir=runs/inpainter --tflite          # the bundled M_z
  python -m binaries.export --model_dir=runs/fmnist32_prior/export --export_dir=runs/inpainter
  python -m binaries.export --model_dir=hub_modules/fashion_mnist32_silhouette_retrained --export_dir=out/m_zs

Writes --export_dir: a SavedModel with two signatures that take images of any size
(serving_default: float32 in [-1, 1], masks 1 = hole; inpaint_uint8: uint8 images and masks,
white >= 128 = hole, uint8 out), resized to the model inside the graph and composited (Eq. 8) at
full resolution exactly as binaries/inpaint.py does; pgi_tf_metadata.json; with --tflite also
inpainter.tflite (TensorFlow Lite builtin ops, both signatures). Serving needs TensorFlow only:

  m = tf.saved_model.load("runs/inpainter")
  out = m.signatures["inpaint_uint8"](images=uint8 [N,H,W,C], masks=uint8 [N,H,W,1])["inpainted"]
"""

from binaries import _main  # noqa: F401

from absl import flags

from pgi_tf.inference import export
from pgi_tf.inference import loading

_MODEL_DIR = flags.DEFINE_string(
    "model_dir", "", "prior_predictor/ + generator/ (+ keypoint_refiner/), or a train_prior export directory; '' = "
    f"the bundled M_z ({loading.BUNDLED_MODEL_DIR}).")
_PRIOR_PREDICTOR = flags.DEFINE_string("prior_predictor", "", "P's module (overrides --model_dir).")
_GENERATOR = flags.DEFINE_string("generator", "", "G's module (overrides --model_dir and P's metadata).")
_KEYPOINT_REFINER = flags.DEFINE_string("keypoint_refiner", "", "M_{z+S}: the refiner f (overrides --model_dir).")
_EXPORT_DIR = flags.DEFINE_string("export_dir", None, "Where the SavedModel goes (replaced only if pgi_tf wrote it).")
_TFLITE = flags.DEFINE_boolean("tflite", False, f"Also write <export_dir>/{export.TFLITE_FILENAME}.")
flags.mark_flags_as_required(["export_dir"])


def main(argv):
  del argv
  model_dir = _MODEL_DIR.value or (loading.default_model_dir("none") if not _PRIOR_PREDICTOR.value else "")
  paths = export.inpainter_paths(model_dir, prior_predictor=_PRIOR_PREDICTOR.value, generator=_GENERATOR.value,
                                 keypoint_refiner=_KEYPOINT_REFINER.value)
  export.export_inpainter(_EXPORT_DIR.value, tflite=_TFLITE.value, **paths)
  files = ["saved_model.pb", "pgi_tf_metadata.json"] + ([export.TFLITE_FILENAME] if _TFLITE.value else [])
  print(_main.json_line({"export_dir": _EXPORT_DIR.value, **paths, "files": files}))


if __name__ == "__main__":
  _main.run(main)
