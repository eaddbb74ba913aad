"""The hostile-user fuzz suite (issue 14): every bad input of the issue's list, and more, against
seven binaries. Each case must end in exactly one `error: <flag or file>: <what is wrong>` line
and exit code 2, with no traceback, no hang and no file of the user's changed (hashes before and
after); the few valid-but-odd inputs (a symlink loop, hidden files, a finished run started
again) must succeed and write what they should.

Each case is a real run of `python -m binaries.<name> ...` through the binaries' shared main
(binaries/_main.py), forked from one process that imported TensorFlow once
(`tiny_models.run_binary_cases`): the process boundary (exit code, stderr) at close to in-process
cost. A case that runs longer than CASE_TIMEOUT seconds is killed by SIGALRM and fails as a hang.
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib
import json
import os
import re
import shutil
import textwrap

import keras
import numpy as np
import pytest
from PIL import Image

from pgi_tf import hub
from pgi_tf.models import dcgan
from tests import tiny_models

CASE_TIMEOUT = 120
TRAINERS = {  # binary -> (preset with a smoke variant, its module under configs/)
    "train_gan": "fashion_mnist32",
    "train_prior": "fashion_mnist32_prior",
    "train_sequence_prior": "fashion_mnist32_sequence_prior",
    "train_keypoint_refiner": "keypoint_refiner_fashion_mnist32",
}
OUTPUT_FLAG = {"inpaint": "output_dir", "evaluate": "output_dir", "benchmark": "output_dir",
               **{name: "workdir" for name in TRAINERS}}


@dataclasses.dataclass
class Case:
  name: str
  binary: str
  args: list[str]
  pattern: str = ""               # the error line must match (names the flag or file)
  expect_error: bool = True
  watched: tuple[str, ...] = ()   # the user's folders this case aims at: must be unchanged
  check: object = None            # expect_error=False: a function(case root) -> None


def _noise(shape, seed):
  return np.random.default_rng(seed).integers(0, 256, shape).astype(np.uint8)


def _hole(side):
  mask = np.zeros((side, side), np.uint8)
  mask[4:10, 5:12] = 255
  return mask


def _images_and_masks(root, names=("a.png", "sub/b.png")):
  for index, name in enumerate(names):
    tiny_models.write_png(os.path.join(root, "images", name), _noise((16, 16), index))
    tiny_models.write_png(os.path.join(root, "masks", name), _hole(16))
  return os.path.join(root, "images"), os.path.join(root, "masks")


def _tree_hashes(path):
  """{relative path: sha256 or link target} of every file and symlink under path (not followed)."""
  hashes = {}
  for folder, dirs, names in os.walk(path):
    for name in dirs + names:
      full = os.path.join(folder, name)
      rel = os.path.relpath(full, path)
      if os.path.islink(full):
        hashes[rel] = "link:" + os.readlink(full)
      elif os.path.isfile(full):
        with open(full, "rb") as f:
          hashes[rel] = hashlib.sha256(f.read()).hexdigest()
  return hashes


def _export_nan_model_dir(model_dir, *, poison: str):
  """A tiny model directory whose G or P holds a NaN weight (P exported for that G)."""
  keras.utils.set_random_seed(7)
  generator, discriminator = dcgan.build_gan(tiny_models.GAN_CONFIG)
  predictor = tiny_models.build_tiny_prior_predictor(seed=8)
  target = generator if poison == "generator" else predictor
  layer = next(layer for layer in target.layers if layer.get_weights())
  weights = layer.get_weights()
  weights[0] = weights[0].copy()
  weights[0].flat[0] = np.nan
  layer.set_weights(weights)
  metadata = hub.gan_metadata(resolution=tiny_models.RESOLUTION, channels=tiny_models.CHANNELS,
                              z_dim=tiny_models.Z_DIM)
  hub.export_generator(generator, os.path.join(model_dir, "generator"), metadata=metadata)
  hub.export_discriminator(discriminator, os.path.join(model_dir, "discriminator"), metadata=metadata)
  tiny_models.export_tiny_prior_predictor(predictor, os.path.join(model_dir, "prior_predictor"),
                                          generator_path=os.path.join(model_dir, "generator"))


def _truncate(path, keep=200):
  with open(path, "rb") as f:
    head = f.read(keep)
  with open(path, "wb") as f:
    f.write(head)


def _config_file(root, name, preset, body):
  path = os.path.join(root, "configs", f"{name}.py")
  os.makedirs(os.path.dirname(path), exist_ok=True)
  with open(path, "w") as f:
    f.write(textwrap.dedent(f"""\
        from configs import {preset}
        def get_config():
          c = {preset}.get_config("smoke")
        """) + textwrap.indent(textwrap.dedent(body), "  ") + "  return c\n")
  return path


# --------------------------------------------------------------------------- the cases

def _output_location_cases(root, binary, base):
  flag = OUTPUT_FLAG[binary]
  afile = os.path.join(root, "afile.txt")
  return [
      Case(f"{binary}-{flag}-is-a-file", binary, base + [f"--{flag}={afile}"], pattern=f"--{flag}=.*is a file"),
      Case(f"{binary}-{flag}-empty", binary, base + [f"--{flag}="], pattern=f"--{flag}=: empty"),
      Case(f"{binary}-{flag}-under-a-file", binary, base + [f"--{flag}={afile}/sub"], pattern=f"--{flag}=.*cannot be made: .* is a file"),
      Case(f"{binary}-{flag}-unwritable", binary, base + [f"--{flag}=/proc/pgi_tf_out"],
           pattern=f"--{flag}=/proc/pgi_tf_out: cannot write"),
  ]


def _trainer_cases(root, binary, preset, trained_workdir):
  out = os.path.join(root, "out")
  base = [f"--config=configs/{preset}.py:smoke"]
  preset_config = importlib.import_module(f"configs.{preset}").get_config("smoke")
  cases = _output_location_cases(root, binary, base)
  work = lambda name: f"--workdir={os.path.join(out, binary, name)}"  # noqa: E731
  for key, value, text in (("train.num_steps", "0", "must be > 0"), ("train.num_steps", "-1", "must be > 0"),
                           ("train.batch_size", "0", "must be > 0"), ("train.checkpoint_every", "0", "must be > 0"),
                           ("train.checkpoint_every", "-1", "must be > 0"), ("train.summary_every", "0", "must be > 0"),
                           ("train.sample_every", "0", "must be > 0"), ("train.keep_checkpoints", "0", "must be > 0"),
                           ("seed", "-1", "must be >= 0"),
                           ("train.num_steps", "abc", "=abc"), ("train.num_stepz", "3", "unknown key")):
    if key.endswith(("summary_every", "sample_every")) and key.split(".")[-1] not in preset_config.train:
      continue  # the keypoint refiner has no samples
    cases.append(Case(f"{binary}-{key}={value}", binary, base + [f"--config.{key}={value}", work(f"{key}{value}")],
                      pattern=re.escape(key.split(".")[-1]) + ".*" + re.escape(text) if "unknown" not in text
                      else "unknown key 'num_stepz'"))
  rate = "learning_rate" if binary != "train_gan" else "generator_learning_rate"
  for value in ("-0.001", "0", "nan"):
    cases.append(Case(f"{binary}-{rate}={value}", binary, base + [f"--config.train.{rate}={value}", work(f"lr{value}")],
                      pattern=f"--config.train.{rate}=.*(must be > 0|finite)"))
  for name, body, pattern in (
      ("typo", "c.train.num_step = 5\n", "unknown key 'num_step' .*did you mean 'num_steps'"),
      ("wrongtype", "c.train.num_steps = 'five'\n", r"--config=.*num_steps.*wrongtype\.py:\d+"),
      ("syntax", "c.train.num_steps = = 5\n", r"--config: .*_syntax\.py:4: invalid syntax"),
      ("raises", "raise RuntimeError('boom')\n", r"RuntimeError: boom .*_raises\.py:4"),
  ):
    path = _config_file(root, f"{binary}_{name}", preset, body)
    cases.append(Case(f"{binary}-config-file-{name}", binary, [f"--config={path}", work(f"cfg{name}")],
                      pattern=pattern))
  cases.append(Case(f"{binary}-config-missing", binary, [f"--config={root}/nope.py", work("nocfg")],
                    pattern="--config"))
  if binary == "train_gan":
    broken = os.path.join(root, "own", "truncated_checkpoint")
    shutil.copytree(trained_workdir, broken)
    data = [n for n in os.listdir(os.path.join(broken, "checkpoints")) if ".data-" in n]
    for name in data:
      _truncate(os.path.join(broken, "checkpoints", name), keep=16)
    cases.append(Case("train_gan-resume-truncated-checkpoint", binary, _gan_smoke_args() + [f"--workdir={broken}"],
                      pattern="ckpt-.*(cannot restore|damaged)", watched=(broken,)))
    finished = os.path.join(root, "own", "finished")
    shutil.copytree(trained_workdir, finished)
    cases.append(Case("train_gan-rerun-finished", binary, _gan_smoke_args() + [f"--workdir={finished}"],
                      expect_error=False, check=_strict_json_stdout))
  if binary == "train_prior":
    nan_dir = os.path.join(root, "nan_generator_model")
    cases.append(Case("train_prior-nan-generator", binary, base + [
        f"--config.generator={nan_dir}/generator", f"--config.discriminator={nan_dir}/discriminator",
        "--config.data.resolution=16", work("nan")],
        pattern=f"{re.escape(nan_dir)}/generator.*NaN"))
  if binary == "train_keypoint_refiner":
    user = os.path.join(root, "own", "export_user")
    os.makedirs(user)
    with open(os.path.join(user, "notes.txt"), "w") as f:
      f.write("the user's own file\n")
    afile = os.path.join(root, "own", "export_file.txt")
    with open(afile, "w") as f:
      f.write("not a folder\n")
    cases += [
        Case("train_keypoint_refiner-export_dir-user-folder", binary, base + [work("exp1"), f"--export_dir={user}"],
             pattern="--export_dir=.*did not write", watched=(user,)),
        Case("train_keypoint_refiner-export_dir-a-file", binary, base + [work("exp2"), f"--export_dir={afile}"],
             pattern="--export_dir=.*not a folder", watched=(afile,)),
    ]
  return cases


def _gan_smoke_args():
  return ["--config=configs/fashion_mnist32.py:smoke", "--config.train.num_steps=2",
          "--config.train.checkpoint_every=1", "--config.train.sample_every=2", "--config.train.summary_every=1"]


def _strict_json_stdout(run, root):
  del root
  summary = json.loads(run.stdout.strip().splitlines()[-1], parse_constant=lambda c: pytest.fail(f"JSON has {c}"))
  assert summary["step"] == 2 and summary["resumed_from_step"] == 2


def _inpaint_cases(root, tiny):
  images, masks = os.path.join(root, "images"), os.path.join(root, "masks")
  out = os.path.join(root, "out", "inpaint")
  model = f"--model_dir={tiny.model_dir}"
  base = [model, f"--input={images}", f"--masks={masks}"]
  o = lambda name: f"--output_dir={os.path.join(out, name)}"  # noqa: E731
  cases = _output_location_cases(root, "inpaint", base)
  own = os.path.join(root, "own")
  own_images, own_masks = _images_and_masks(os.path.join(own, "inpaint_data"))
  with open(os.path.join(own_images, "grid.png"), "wb") as f:
    f.write(b"the user's grid")
  foreign = os.path.join(own, "foreign_out")
  os.makedirs(foreign)
  tiny_models.write_png(os.path.join(foreign, "a.png"), _noise((16, 16), 9))
  data = (os.path.dirname(own_images),)
  cases += [
      Case("inpaint-output-is-input", "inpaint", [model, f"--input={own_images}", f"--masks={own_masks}",
                                                  f"--output_dir={own_images}"], pattern="--output_dir=.*--input",
           watched=data),
      Case("inpaint-output-is-masks", "inpaint", [model, f"--input={own_images}", f"--masks={own_masks}",
                                                  f"--output_dir={own_masks}"], pattern="--output_dir=.*--masks",
           watched=data),
      Case("inpaint-output-inside-input", "inpaint", [model, f"--input={own_images}", f"--masks={own_masks}",
                                                      f"--output_dir={own_images}/sub/out"],
           pattern="--output_dir=.*inside --input", watched=data),
      Case("inpaint-output-foreign-nonempty", "inpaint", base + [f"--output_dir={foreign}"],
           pattern="--output_dir=.*did not write.*--overwrite", watched=(foreign,)),
  ]
  for flag, value, pattern in (
      ("batch_size", "0", "--batch_size"), ("batch_size", "-4", "--batch_size"), ("seed", "-1", "--seed"),
      ("refine_steps", "-5", "--refine_steps"), ("num_candidates", "0", "--num_candidates"),
      ("hole_ratio", "0", "--hole_ratio"), ("hole_ratio", "1.5", "--hole_ratio"), ("hole_size", "-2", "--hole_size"),
      ("mode", "fastest", "--mode"), ("latent_smoothing", "-1", "--latent_smoothing"),
      ("num_candidates", "4", "--num_candidates=4"), ("label", "7", "--label"),
  ):
    cases.append(Case(f"inpaint-{flag}={value}", "inpaint", base + [f"--{flag}={value}", o(f"{flag}{value}")],
                      pattern=pattern))
  for value in ("0", "-3"):
    cases.append(Case(f"inpaint-iterations={value}", "inpaint",
                      base + ["--mode=iterative", f"--iterations={value}", o(f"it{value}")], pattern="--iterations"))
  gif_dir = os.path.join(root, "gif")
  os.makedirs(gif_dir)
  Image.fromarray(_noise((16, 16), 3)).convert("P").save(os.path.join(gif_dir, "g.png"), format="GIF")
  trunc_dir = os.path.join(root, "truncated_image")
  tiny_models.write_png(os.path.join(trunc_dir, "t.png"), _noise((16, 16), 4))
  _truncate(os.path.join(trunc_dir, "t.png"), keep=60)
  small_masks = os.path.join(root, "small_masks")
  tiny_models.write_png(os.path.join(small_masks, "a.png"), _hole(12))
  tiny_models.write_png(os.path.join(small_masks, "sub", "b.png"), _hole(12))
  empty = os.path.join(root, "empty_folder")
  os.makedirs(empty)
  cases += [
      Case("inpaint-gif-named-png", "inpaint", [model, f"--input={gif_dir}", "--mask_kind=ratio", o("gif")],
           pattern=r"g\.png: is GIF"),
      Case("inpaint-truncated-png", "inpaint", [model, f"--input={trunc_dir}", "--mask_kind=ratio", o("trunc")],
           pattern=r"t\.png: "),
      Case("inpaint-mask-size-mismatch", "inpaint", [model, f"--input={images}", f"--masks={small_masks}", o("msz")],
           pattern="mask is 12x12"),
      Case("inpaint-missing-input", "inpaint", [model, f"--input={root}/nothing", "--mask_kind=ratio", o("mi")],
           pattern="--input=.*no such"),
      Case("inpaint-missing-masks", "inpaint", [model, f"--input={images}", f"--masks={root}/nothing", o("mm")],
           pattern="--masks=.*no such"),
      Case("inpaint-empty-input-folder", "inpaint", [model, f"--input={empty}", "--mask_kind=ratio", o("empty")],
           pattern="no .png"),
      Case("inpaint-no-masks", "inpaint", [model, f"--input={images}", "--masks=", o("nomask")], pattern="--masks"),
      Case("inpaint-missing-model", "inpaint", [f"--model_dir={root}/nomodel"] + base[1:] + [o("nomodel")],
           pattern="nomodel"),
      Case("inpaint-other-p", "inpaint", base + [f"--prior_predictor={tiny.other_prior_predictor}", o("otherp")],
           pattern="--prior_predictor"),
      Case("inpaint-unknown-flag", "inpaint", base + ["--outptu_dir=x"], pattern="outptu_dir"),
  ]
  for part in ("generator", "prior_predictor"):
    broken = os.path.join(root, f"truncated_{part}_model")
    shutil.copytree(tiny.model_dir, broken)
    _truncate(os.path.join(broken, part, "saved_model.pb"))
    cases.append(Case(f"inpaint-truncated-{part}-pb", "inpaint", [f"--model_dir={broken}"] + base[1:] + [o(f"tr{part}")],
                      pattern=f"{part}.*(damaged|cannot load)"))
    nan_dir = os.path.join(root, f"nan_{part}_model")
    cases.append(Case(f"inpaint-nan-{part}", "inpaint", [f"--model_dir={nan_dir}"] + base[1:] + [o(f"nan{part}")],
                      pattern=f"{part}.*NaN"))
  # Valid but odd: must succeed and write exactly the right outputs, quickly.
  loop = os.path.join(root, "loop")
  tiny_models.write_png(os.path.join(loop, "a.png"), _noise((16, 16), 5))
  os.symlink(loop, os.path.join(loop, "again"))          # a loop
  os.symlink(root + "/loop", os.path.join(loop, "up"))   # the same folder by another name
  hidden = os.path.join(root, "hidden")
  tiny_models.write_png(os.path.join(hidden, "a.png"), _noise((16, 16), 6))
  open(os.path.join(hidden, ".tmp-a.png.x.png"), "wb").close()   # what a killed writer leaves
  tiny_models.write_png(os.path.join(hidden, ".git", "b.png"), _noise((16, 16), 7))
  cases += [
      Case("inpaint-symlink-loop", "inpaint", [model, f"--input={loop}", "--mask_kind=ratio", o("loop")],
           expect_error=False, check=_outputs_are(os.path.join(out, "loop"), ["a.png"])),
      Case("inpaint-hidden-files", "inpaint", [model, f"--input={hidden}", "--mask_kind=ratio", o("hidden")],
           expect_error=False, check=_outputs_are(os.path.join(out, "hidden"), ["a.png"])),
  ]
  return cases


def _outputs_are(output_dir, expected):
  def check(run, root):
    del root
    results = json.load(open(os.path.join(output_dir, "results.json")))
    assert results["status"] == "complete" and results["images"] == len(expected), run.stdout
    pngs = sorted(os.path.relpath(os.path.join(d, n), output_dir) for d, _, names in os.walk(output_dir)
                  for n in names if n.endswith(".png") and n != "grid.png")
    assert pngs == sorted(expected)
  return check


def _evaluate_cases(root, tiny):
  out = os.path.join(root, "out", "evaluate")
  base = [f"--model_dir={tiny.model_dir}", "--methods=single", "--fd_extractor="]
  o = lambda name: f"--output_dir={os.path.join(out, name)}"  # noqa: E731
  cases = _output_location_cases(root, "evaluate", base)
  for flag, value, pattern in (
      ("num_images", "-5", "--num_images=-5"), ("num_images", "0", "--num_images"), ("batch_size", "0", "--batch_size"),
      ("seed", "-1", "--seed"), ("hole_ratios", "abc", "--hole_ratios"), ("hole_ratios", "0", "--hole_ratios"),
      ("hole_ratios", "1.5", "--hole_ratios"), ("methods", "bogus", "--methods|bogus"), ("iterations", "0", "--iterations"),
      ("refine_steps", "-5", "--refine_steps"), ("num_clips", "0", "--num_clips"), ("split", "nosuch", "nosuch"),
      ("fd_extractor", "bogus:x", "--fd_extractor"), ("prior_predictors", "broken", "--prior_predictors"),
      ("hole_sizes", "x", "--hole_sizes"), ("source", "nosuch", "nosuch"),
  ):
    args = [a for a in base if not a.startswith(f"--{flag}=")] + [f"--{flag}={value}", o(f"{flag}{value}")]
    cases.append(Case(f"evaluate-{flag}={value}", "evaluate", args, pattern=pattern))
  return cases


def _benchmark_cases(root):
  out = os.path.join(root, "out", "benchmark")
  base = ["--suites=inference_table4", "--width_scale=0.125", "--steps=1"]
  o = lambda name: f"--output_dir={os.path.join(out, name)}"  # noqa: E731
  cases = _output_location_cases(root, "benchmark", base)
  for flag, value, pattern in (
      ("steps", "0", "--steps"), ("steps", "-1", "--steps"), ("resolutions", "abc", "--resolutions"),
      ("resolutions", "0", "--resolutions"), ("width_scale", "-1", "--width_scale"), ("width_scale", "0", "--width_scale"),
      ("inference_batch_sizes", "0", "--inference_batch_sizes"), ("inference_batch_sizes", "x", "--inference_batch_sizes"),
      ("suites", "bogus", "--suites"), ("num_candidates", "0", "--num_candidates"), ("batch_size", "0", "--batch_size"),
      ("max_iterative_seconds", "0", "--max_iterative_seconds"),
  ):
    args = [a for a in base if not a.startswith(f"--{flag}=")] + [f"--{flag}={value}", o(f"{flag}{value}")]
    cases.append(Case(f"benchmark-{flag}={value}", "benchmark", args, pattern=pattern))
  return cases


@pytest.fixture(scope="module")
def fuzz(tmp_path_factory):
  """(cases, runs, root, hashes before, hashes after): every case run once."""
  tiny = tiny_models.shared_model_dirs(tmp_path_factory)
  root = str(tmp_path_factory.mktemp("fuzz"))
  _images_and_masks(root)
  with open(os.path.join(root, "afile.txt"), "w") as f:
    f.write("a file, not a folder\n")
  for part in ("generator", "prior_predictor"):
    _export_nan_model_dir(os.path.join(root, f"nan_{part}_model"), poison=part)
  # A finished 2-step train_gan smoke run: the resume cases start from copies of it.
  trained = os.path.join(root, "trained_gan")
  [setup] = tiny_models.run_binary_cases("binaries.train_gan", [_gan_smoke_args() + [f"--workdir={trained}"]],
                                         workdir=os.path.join(root, "setup_logs"))
  assert setup.returncode == 0, setup.stderr[-2000:]

  cases = (_inpaint_cases(root, tiny) + _evaluate_cases(root, tiny) + _benchmark_cases(root)
           + [c for binary, preset in TRAINERS.items() for c in _trainer_cases(root, binary, preset, trained)])
  names = [c.name for c in cases]
  assert len(names) == len(set(names)), [n for n in names if names.count(n) > 1]
  before = {c.name: {w: _tree_hashes(w) if os.path.isdir(w) else _file_hash(w) for w in c.watched} for c in cases}
  user_files = {p: _tree_hashes(os.path.join(root, p)) for p in ("images", "masks", "configs", "loop", "hidden")}
  pending = {}
  for binary in sorted({c.binary for c in cases}):
    mine = [c for c in cases if c.binary == binary]
    pending[binary] = (mine, tiny_models.start_binary_cases(
        f"binaries.{binary}", [c.args for c in mine], workdir=os.path.join(root, "logs", binary), parallel=2,
        timeout_per_case=CASE_TIMEOUT))
    # One binary's runner at a time: two runners of two forks each would oversubscribe 2 cores.
    pending[binary][1].results(timeout=CASE_TIMEOUT * len(mine))
  runs = {c.name: run for mine, runner in pending.values() for c, run in zip(mine, runner.results())}
  after = {c.name: {w: _tree_hashes(w) if os.path.isdir(w) else _file_hash(w) for w in c.watched} for c in cases}
  user_after = {p: _tree_hashes(os.path.join(root, p)) for p in user_files}
  return {c.name: c for c in cases}, runs, root, (before, user_files), (after, user_after)


def _file_hash(path):
  with open(path, "rb") as f:
    return hashlib.sha256(f.read()).hexdigest()


def test_the_suite_has_at_least_119_cases(fuzz):
  cases, runs, *_ = fuzz
  assert len(cases) >= 119 and set(runs) == set(cases)


def test_every_bad_input_is_one_error_line_exit_2_no_traceback(fuzz):
  cases, runs, *_ = fuzz
  failures = []
  for name, case in cases.items():
    run = runs[name]
    problem = None
    if run.returncode == -14:
      problem = f"hung (killed after {CASE_TIMEOUT} s)"
    elif "Traceback" in run.stderr:
      problem = "traceback: " + run.stderr.strip().splitlines()[-1]
    elif not case.expect_error:
      problem = None if run.returncode == 0 else f"exit {run.returncode}: {run.stderr.strip()[-300:]}"
    else:
      errors = [line for line in run.stderr.splitlines() if line.startswith("error:")]
      if run.returncode != 2:
        problem = f"exit {run.returncode} (silent success?)" if run.returncode == 0 else f"exit {run.returncode}"
      elif len(errors) != 1:
        problem = f"{len(errors)} error lines: {run.stderr.strip()[-300:]}"
      elif case.pattern and not re.search(case.pattern, errors[0]):
        problem = f"error line does not match {case.pattern!r}: {errors[0]}"
    if problem:
      failures.append(f"{name}: {problem}")
  assert not failures, "\n".join(failures)


def test_valid_odd_inputs_write_what_they_should(fuzz):
  cases, runs, root, *_ = fuzz
  checked = 0
  for name, case in cases.items():
    if case.check is not None:
      assert runs[name].returncode == 0, runs[name].stderr[-2000:]
      case.check(runs[name], root)
      checked += 1
  assert checked >= 3


def test_no_file_of_the_user_changes(fuzz):
  cases, runs, root, (before, user_before), (after, user_after) = fuzz
  changed = [f"{name}: {path}" for name in cases for path in before[name] if before[name][path] != after[name][path]]
  assert not changed, changed
  assert user_before == user_after
  # The cases aimed at real user folders exist and held files (so the hashes compare something).
  assert sum(bool(h) for name in cases for h in before[name].values()) >= 6
