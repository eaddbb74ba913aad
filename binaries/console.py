"""Console commands (pyproject.toml [project.scripts]): `pgi-<name>` runs `python -m binaries.<name>`.

Each binary keeps its own `main(argv)` and absl flags; importing it defines the flags, and
`_main.run` parses them and turns bad input into one line and exit code 2, as `python -m` does.
"""

import importlib
import sys


def _command(module_name: str):
  def run() -> None:
    module = importlib.import_module(f"binaries.{module_name}")
    from binaries import _main  # pylint: disable=import-outside-toplevel  (after the binary's flags)
    sys.argv[0] = f"pgi-{module_name.replace('_', '-')}"
    _main.run(module.main)
  run.__name__ = module_name
  run.__doc__ = f"pgi-{module_name.replace('_', '-')}: python -m binaries.{module_name}"
  return run


BINARIES = ("inpaint", "evaluate", "benchmark", "export", "demo", "report", "train_gan", "train_prior",
            "train_sequence_prior", "train_keypoint_refiner", "train_regression_inpainter", "train_critic",
            "train_class_predictor", "train_fid_classifier", "sweep_lambdas", "sweep_refiner", "calibrate_domain")

inpaint = _command("inpaint")
evaluate = _command("evaluate")
benchmark = _command("benchmark")
export = _command("export")
demo = _command("demo")
report = _command("report")
train_gan = _command("train_gan")
train_prior = _command("train_prior")
train_sequence_prior = _command("train_sequence_prior")
train_keypoint_refiner = _command("train_keypoint_refiner")
train_regression_inpainter = _command("train_regression_inpainter")
train_critic = _command("train_critic")
train_class_predictor = _command("train_class_predictor")
train_fid_classifier = _command("train_fid_classifier")
sweep_lambdas = _command("sweep_lambdas")
sweep_refiner = _command("sweep_refiner")
calibrate_domain = _command("calibrate_domain")
