"""Every paper preset under configs/: a header that names its row and says how to run it, a
:smoke variant that really is smaller, and a test somewhere under tests/ that runs that variant."""

import importlib
import os
import re

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PRESETS = sorted(name[:-3] for name in os.listdir(os.path.join(REPO, "configs"))
                 if name.endswith(".py") and name != "__init__.py" and not name.endswith("_defaults.py"))


def _test_sources() -> dict[str, str]:
  sources = {}
  for root, _, names in os.walk(os.path.join(REPO, "tests")):
    for name in names:
      if name.endswith(".py") and name != "test_presets.py":
        with open(os.path.join(root, name)) as f:
          sources[os.path.join(root, name)] = f.read()
  return sources


def test_there_are_presets_for_every_published_table():
  assert len(PRESETS) >= 20
  text = " ".join(importlib.import_module(f"configs.{name}").__doc__ for name in PRESETS)
  for row in ("Table 1", "Table 2", "Table 3", "Fig. 4", "Fig. 6"):
    assert row in text


@pytest.mark.parametrize("name", PRESETS)
def test_preset_header_names_its_row_and_commands(name):
  doc = importlib.import_module(f"configs.{name}").__doc__
  first_line = doc.strip().splitlines()[0]
  assert re.search(r"Table \d|Fig\. \d|§\d", first_line), first_line
  for field in ("Paper:", "Run", "Smoke:", "Expect", "Differs from the paper:"):
    assert field in doc, f"configs/{name}.py: header has no {field!r}"
  assert f"configs/{name}.py:smoke" in doc or f"configs/{name}.py" in doc


@pytest.mark.parametrize("name", PRESETS)
def test_smoke_variant_is_smaller_and_exercised_by_a_test(name):
  module = importlib.import_module(f"configs.{name}")
  full, smoke = module.get_config(), module.get_config("smoke")
  assert smoke.train.num_steps < full.train.num_steps
  assert smoke.train.batch_size <= full.train.batch_size
  # A test runs the smoke variant: by file (":smoke" on a command line), by module
  # (`<name>.get_config("smoke")`), or by name in a table of presets next to get_config("smoke").
  users = [path for path, text in _test_sources().items()
           if f"configs/{name}.py:smoke" in text or f'{name}.get_config("smoke")' in text
           or (f'"{name}' in text and 'get_config("smoke")' in text)]
  assert users, f"configs/{name}.py:smoke is not run by any test"


# Every chosen hyperparameter traces to a validation-split JSON that a binary wrote, and the
# bundled model that ships the preset was trained with that value.
CHOICES = [
    # (preset, config fields, results JSON, JSON "chosen" fields, bundled export)
    ("fashion_mnist32_prior", ("loss.lambda_realism", "loss.lambda_gradient"), "results/sweep_lambdas/results.json",
     ("lambda_realism", "lambda_gradient"), "hub_modules/fashion_mnist32/prior_predictor_paper"),
    ("fashion_mnist32_prior_latent", ("loss.lambda_realism", "loss.lambda_gradient"),
     "results/sweep_lambdas/results.json", ("lambda_realism", "lambda_gradient"),
     "hub_modules/fashion_mnist32/prior_predictor"),
    ("fashion_mnist32_sequence_prior", ("loss.lambda_realism", "loss.lambda_gradient"),
     "results/sweep_lambdas/results.json", ("lambda_realism", "lambda_gradient"),
     "hub_modules/fashion_mnist32/sequence_prior"),
    ("keypoint_refiner_fashion_mnist32", ("train.hole_drop_fraction",), "results/sweep_refiner_silhouette/results.json",
     ("value",), None),
    ("keypoint_refiner_faces", ("data.lfw_dlib_fraction",), "results/sweep_refiner_faces/results.json", ("value",),
     None),
]


def _field(config, dotted):
  section, name = dotted.split(".")
  return config[section][name]


@pytest.mark.parametrize("preset,fields,path,chosen_fields,bundled", CHOICES, ids=[c[0] for c in CHOICES])
def test_chosen_values_come_from_a_validation_json(preset, fields, path, chosen_fields, bundled):
  import json
  with open(os.path.join(REPO, path)) as f:
    data = json.load(f)
  assert data["split"] == "val" and data["provenance"]["command"].startswith("python -m binaries.sweep_")
  assert len(data["seeds"]) >= 2
  config = importlib.import_module(f"configs.{preset}").get_config()
  chosen = [data["chosen"][name] for name in chosen_fields]
  assert [_field(config, name) for name in fields] == chosen, f"configs/{preset}.py does not use {path}'s choice"
  if bundled:
    with open(os.path.join(REPO, bundled, "pgi_tf_metadata.json")) as f:
      metadata = json.load(f)
    assert [metadata[name] for name in chosen_fields] == chosen
    assert metadata["loss_normalisation"] == "per_known_pixel"


def test_the_shipped_p_is_the_variant_chosen_on_val():
  """hub_modules/fashion_mnist32/prior_predictor is the one-pass variant with the lowest Fréchet
  distance at 40% holes on the validation JSON, among those within 0.5 dB PSNR of the paper's P."""
  import json
  with open(os.path.join(REPO, "results/prior_variants_val/results.json")) as f:
    results = json.load(f)
  assert results["split"] == "val" and results["num_images"] >= 1000
  rows = {(r["hole_ratio"], r["method"]): r for r in results["rows"]}
  paper_psnr = rows[(0.4, "single")]["psnr_db"]
  eligible = {method[len("single ["):-1]: row["frechet_distance"] for (ratio, method), row in rows.items()
              if ratio == 0.4 and method.startswith("single [") and row["psnr_db"] >= paper_psnr - 0.5}
  chosen = min(eligible, key=eligible.get)
  assert eligible[chosen] < rows[(0.4, "single")]["frechet_distance"]
  with open(os.path.join(REPO, "hub_modules/fashion_mnist32/prior_predictor/pgi_tf_metadata.json")) as f:
    shipped = json.load(f)
  assert shipped["config_name"] == f"fashion_mnist32_prior_{chosen}"
  assert shipped["warm_start"] == "hub_modules/fashion_mnist32/prior_predictor_paper"


def test_shipped_sequence_prior_of_the_clip_frame_g_is_the_val_choice():
  """hub_modules/moving_fashion_mnist32/sequence_prior is the LSTM model with the lowest flicker
  (summed over fixed and moving holes) among those whose per-frame PSNR is not below the
  paper-faithful M_{z+L}'s on the validation clips at both hole motions."""
  import json
  rows = {}
  for motion in ("fixed", "moving"):
    with open(os.path.join(REPO, f"results/temporal_options_val_{motion}/results.json")) as f:
      results = json.load(f)
    assert results["split"] == "val" and results["num_clips"] >= 200
    for row in results["rows"]:
      rows.setdefault(row["model"], {})[motion] = row
  paper = rows["M_{z+L}"]
  lstm = {name: by_motion for name, by_motion in rows.items() if by_motion["fixed"]["temporal"] == "lstm"}
  eligible = {name: sum(r["flicker"] for r in by_motion.values()) for name, by_motion in lstm.items()
              if all(by_motion[m]["psnr_db"] >= paper[m]["psnr_db"] for m in ("fixed", "moving"))}
  chosen = min(eligible, key=eligible.get)
  assert chosen == "temporal_10"
  assert "hub_modules/moving_fashion_mnist32/sequence_prior)" in rows[chosen]["fixed"]["z_from"]
  with open(os.path.join(REPO, "hub_modules/moving_fashion_mnist32/sequence_prior/pgi_tf_metadata.json")) as f:
    shipped = json.load(f)
  assert shipped["config_name"] == "moving_fashion_mnist32_sequence_prior_temporal"
  assert shipped["lambda_temporal"] == 10.0
  with open(os.path.join(REPO, "hub_modules/moving_fashion_mnist32/sequence_prior_paper/pgi_tf_metadata.json")) as f:
    assert json.load(f).get("lambda_temporal", 0.0) == 0.0
