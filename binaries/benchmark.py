r"""Speed benchmarks, written as JSON + Markdown (the only place timings live).

  python -m binaries.benchmark --suites=gan_training --output_dir=benchmarks

Suites: gan_training (images/s of one Eq. 1 step at 32 and 64 px, with and without XLA,
and of a plain Keras model.fit() of the same networks and batch, in the same run);
prior_training (the same for stage 2: P against frozen G and D with Eq. 7); inference_table4
(Table 4: ms per image of one pass vs the iterative baseline at 32, 64, 128 px, batch 1 and 64,
and the speedup, in the same run).

  python -m binaries.benchmark --suites=inference_table4 --output_dir=benchmarks

serving_backends: one pass of a real model (--model_dir, default the bundled M_z; or with
--resolutions untrained DCGAN presets at those sizes) through the library (tf), XLA, the exported
SavedModel and the exported .tflite (XNNPACK, 1 and all threads), batch 1 and 64, each with its
FLOPs, share of the machine's fp32 peak, peak memory and speedup over the iterative search.
layer_profile: per layer of P and G (DCGAN preset, default 64 px, the largest batch size): FLOPs,
ms and share of peak, to see what keeps the one pass below the machine's peak.

  python -m binaries.benchmark --suites=serving_backends --output_dir=results/serving_backends
"""

from binaries import _main  # noqa: F401

import json
import os

from absl import flags

from pgi_tf import files
from pgi_tf.evaluation import benchmarks
from pgi_tf.evaluation import provenance
from pgi_tf.evaluation import serving_benchmarks
from pgi_tf.evaluation import training_benchmarks
from pgi_tf.errors import InputError

SUITES = sorted([*training_benchmarks.SUITES, *benchmarks.SUITES, "serving_backends", "layer_profile"])
_SUITES = flags.DEFINE_list("suites", ["gan_training"], f"Any of {SUITES}.")
_OUTPUT_DIR = flags.DEFINE_string("output_dir", "benchmarks", "Where benchmark.json / benchmark.md go.")
_STEPS = flags.DEFINE_integer("steps", 10, "Timed repetitions per row (after warm-up).", lower_bound=1)
_ROUNDS = flags.DEFINE_integer("rounds", 3, "gan_training, prior_training: interleaved rounds of --steps steps "
                               "per row (ours and fit() in turn); rows give the median.", lower_bound=1)
_BATCH_SIZE = flags.DEFINE_integer("batch_size", 64, "Batch size for gan_training and prior_training.",
                                   lower_bound=1)
_WIDTH_SCALE = flags.DEFINE_float("width_scale", 1.0, "Scales the DCGAN widths (smoke runs use 0.125).")
flags.register_validator("width_scale", lambda v: v > 0, "must be > 0")
_RESOLUTIONS = flags.DEFINE_list("resolutions", None, "Overrides each suite's resolutions, e.g. 32,64.")
_INFERENCE_BATCH_SIZES = flags.DEFINE_list("inference_batch_sizes", ["1", "64"], "Table 4 batch sizes.")
_MAX_ITERATIVE_SECONDS = flags.DEFINE_float(
    "max_iterative_seconds", 600.0, "Longer full searches are timed on fewer steps and scaled (reported).")
flags.register_validator("max_iterative_seconds", lambda v: v > 0, "must be > 0")
_NUM_CANDIDATES = flags.DEFINE_list(
    "num_candidates", ["1"], "inference_table4: P's candidate heads K, one set of rows per value (K > 1: all K "
    "through G in one batch, the best pasted; e.g. 1,8).")
_MODEL_DIR = flags.DEFINE_string("model_dir", "", "serving_backends: the model ('' = the bundled M_z).")
_XLA = flags.DEFINE_boolean("xla", False, "Compile the inference modes with XLA.")
_GENERATOR = flags.DEFINE_string(
    "generator", "", "inference_table4 with this frozen generator instead of the DCGAN presets: a registry "
    "name (biggan-256 for Table 4's 256-px row), TF-Hub handle, directory or standin:NAME[@R].")


def main(argv):
  del argv
  run = provenance.start()
  suites = SUITES
  unknown = [s for s in _SUITES.value if s not in suites]
  if unknown:
    raise InputError(f"--suites: unknown suite {unknown[0]!r}, choose from {', '.join(suites)}")
  resolutions = ({"resolutions": tuple(_main.number_list("resolutions", _RESOLUTIONS.value, int, low=8, high=1024))}
                 if _RESOLUTIONS.value else {})
  batch_sizes = tuple(_main.number_list("inference_batch_sizes", _INFERENCE_BATCH_SIZES.value, int, low=1, high=4096))
  candidate_counts = _main.number_list("num_candidates", _NUM_CANDIDATES.value, int, low=1, high=64)
  files.check_output_dir(_OUTPUT_DIR.value, flag="--output_dir")
  rows = []
  for suite in _SUITES.value:
    if suite == "gan_training":
      rows += training_benchmarks.gan_training_throughput(batch_size=_BATCH_SIZE.value, steps=_STEPS.value,
                                                 width_scale=_WIDTH_SCALE.value, rounds=_ROUNDS.value, **resolutions)
    if suite == "prior_training":
      rows += training_benchmarks.prior_training_throughput(batch_size=_BATCH_SIZE.value, steps=_STEPS.value,
                                                   rounds=_ROUNDS.value, **resolutions)
    if suite == "inference_table4":
      for k in candidate_counts:
        rows += benchmarks.inference_speed(
            batch_sizes=batch_sizes,
            max_iterative_seconds=_MAX_ITERATIVE_SECONDS.value, xla=_XLA.value, generator=_GENERATOR.value,
            num_candidates=k, **resolutions)
    if suite == "layer_profile":
      for resolution in resolutions.get("resolutions", (64,)):
        rows += serving_benchmarks.layer_profiles(resolution=resolution, batch_size=max(batch_sizes))
    if suite == "serving_backends":
      rows += serving_benchmarks.serving_backends(
          model_dir=_MODEL_DIR.value, batch_sizes=batch_sizes, max_iterative_seconds=_MAX_ITERATIVE_SECONDS.value,
          resolutions=resolutions.get("resolutions", ()))
  record = run.record()
  machine = record["machine"]
  os.makedirs(_OUTPUT_DIR.value, exist_ok=True)
  report = {"machine": machine, "rows": rows, "provenance": record}
  json_path = os.path.join(_OUTPUT_DIR.value, "benchmark.json")
  md_path = os.path.join(_OUTPUT_DIR.value, "benchmark.md")
  for path, text in ((json_path, json.dumps(report, indent=2)),
                     (md_path, benchmarks.to_markdown(rows, title="pgi_tf benchmarks") +
                      f"\nMachine: {json.dumps(machine)}\n")):
    files.write_text(path, text)
  print(benchmarks.to_markdown(rows, title="pgi_tf benchmarks"))


if __name__ == "__main__":
  _main.run(main)
