"""Table 2 (§6.3.3) and Table 3 presets end to end on their offline smoke variants: the
class-conditional BigGAN model, the masked-image class predictor, --label=auto, evaluate.py's
actual-label / predicted-label rows with top-1 accuracy on masked vs unmasked images."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from configs import class_predictor_imagenet256
from configs import table2_imagenet256_biggan
from pgi_tf.evaluation import classification
from pgi_tf.evaluation import images as image_evaluation
from pgi_tf import hub
from pgi_tf.inference import loading
from pgi_tf.inference import folders
from pgi_tf import visualize
from pgi_tf.data import datasets
from pgi_tf.train import class_predictor as class_predictor_lib
from pgi_tf.train import prior

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
  root = tmp_path_factory.mktemp("table2")
  config = table2_imagenet256_biggan.get_config("smoke")
  config.train.num_steps = 3
  p_export = prior.train(config, workdir=str(root / "prior"))["export_dir"]
  classifier_config = class_predictor_imagenet256.get_config("smoke")
  classifier_config.train.num_steps = 3
  classifier = class_predictor_lib.train(classifier_config, workdir=str(root / "classifier"))["export_dir"]
  return {"root": root, "model_dir": p_export, "class_predictor": classifier}


def _skimage_batch(resolution: int):
  images, labels = next(iter(datasets.make_image_dataset(
      source="skimage", data_dir=None, split="test", resolution=resolution, channels=3, batch_size=9,
      shuffle=False, repeat=False, with_labels=True)))
  return images.numpy(), labels.numpy()


def test_smoke_preset_is_class_conditional_biggan(trained):
  metadata = hub.read_metadata(os.path.join(trained["model_dir"], "prior_predictor"))
  assert metadata["generator_name"] == "biggan-256" and metadata["standin"] is True
  assert metadata["class_conditional"] is True and metadata["num_classes"] == 1000
  assert metadata["truncation"] == 0.5 and metadata["z_support"] == [-1.0, 1.0]  # [-2t, 2t]
  assert metadata["input_names"] == ["masked_images", "masks", "condition"]
  assert metadata["photo_realism"] == "off"


def test_label_auto_uses_the_class_predictor(trained, tmp_path):
  models = loading.load_models(model_dir=trained["model_dir"], class_predictor=trained["class_predictor"])
  images, _ = _skimage_batch(models.resolution)
  input_dir, mask = tmp_path / "in", np.zeros((16, 16, 1), np.float32)
  mask[4:12, 4:12] = 1.0
  for index, image in enumerate(images):
    visualize.save_png(str(input_dir / f"{index}.png"), image)
  Image.fromarray((mask[..., 0] * 255).astype(np.uint8)).save(tmp_path / "mask.png")  # white = hole
  summary = folders.inpaint_files(models=models, input_path=str(input_dir), output_dir=str(tmp_path / "out"),
                                        mask_path=str(tmp_path / "mask.png"), label="auto")
  assert summary["label_source"] == "predicted" and summary["class_conditional"] is True
  # The labels used are the class predictor's top-1 on each masked image (read back from the PNGs).
  reread = np.stack([np.asarray(Image.open(input_dir / f"{i}.png").convert("RGB")) for i in range(9)])
  reread = reread.astype(np.float32) / 127.5 - 1.0
  masks = np.broadcast_to(mask, (9, 16, 16, 1)).astype(np.float32)
  expected = np.argmax(models.class_predictor((1.0 - masks) * reread, masks).numpy(), axis=-1)
  assert [summary["labels"][f"{i}.png"] for i in range(9)] == list(expected)


def test_evaluate_reports_actual_and_predicted_label_rows(trained, tmp_path):
  out_dir = tmp_path / "eval"
  done = subprocess.run(
      [sys.executable, "-m", "binaries.evaluate", f"--model_dir={trained['model_dir']}",
       f"--class_predictor={trained['class_predictor']}", "--source=skimage", "--num_images=9",
       "--hole_sizes=6,8", "--mask_kind=central", "--methods=single,telea", "--fd_extractor=",
       "--batch_size=9", f"--output_dir={out_dir}"],
      cwd=ROOT, capture_output=True, text=True, timeout=300)
  assert done.returncode == 0, done.stderr[-2000:]
  table = (out_dir / "table.md").read_text()
  assert "Table 2 layout" in table and "| 6x6 holes | 8x8 holes |" in table
  assert "single [actual label] → PSNR" in table and "single [predicted label] → PSNR" in table
  assert "telea → PSNR" in table and "STAND-IN" in table
  results = json.loads((out_dir / "results.json").read_text())
  methods = {(r["hole_ratio"], r["method"]) for r in results["rows"]}
  assert ("8x8", "single [predicted label]") in methods and ("6x6", "single [actual label]") in methods
  # Top-1 on masked vs unmasked images, per column, recomputed here from the same masks.
  classifier = hub.load_class_predictor(trained["class_predictor"])
  images, labels = _skimage_batch(16)
  for index, column in enumerate(["6x6", "8x8"]):
    masks = image_evaluation.evaluation_masks(count=9, resolution=16, hole_ratio=column, seed=1000 * index,
                                        mask_kind="central")
    assert masks[0, 8, 8, 0] == 1.0 and masks[0, 0, 0, 0] == 0.0  # central
    expected = classification.top1_accuracy(classifier, images=images, labels=labels, masks=masks)
    assert results["class_predictor_top1"][column] == pytest.approx(expected)
  assert results["models"]["generator"] == "biggan-256" and results["models"]["photo_realism"] == "off"


def test_label_rows_need_a_class_predictor(trained, tmp_path):
  done = subprocess.run(
      [sys.executable, "-m", "binaries.evaluate", f"--model_dir={trained['model_dir']}", "--source=skimage",
       "--num_images=9", "--hole_sizes=8", "--methods=single", "--fd_extractor=", f"--output_dir={tmp_path}"],
      cwd=ROOT, capture_output=True, text=True, timeout=300)
  assert done.returncode == 2
  assert done.stderr.strip().splitlines()[-1] == (
      "error: --label_rows=predicted: needs --class_predictor (binaries/train_class_predictor.py); "
      "or --label_rows=actual")


def test_table3_face_preset_smoke_trains_a_grouped_prior_on_a_progan_standin(tmp_path):
  from configs import table3_faceforensics128_progan
  from pgi_tf.train import sequence_prior
  full = table3_faceforensics128_progan.get_config()
  assert (full.generator, full.data.resolution, full.masks.kind) == ("progan-128", 128, "rectangle")
  config = table3_faceforensics128_progan.get_config("smoke")
  config.data.num_clips = 8
  config.train.update(num_steps=2, batch_size=2, sample_clips=1)
  result = sequence_prior.train(config, workdir=str(tmp_path / "t3"))
  metadata = hub.read_metadata(result["export_dir"])
  assert metadata["generator_name"] == "progan-128" and metadata["standin"] is True
  assert metadata["z_dim"] == 512 and metadata["z_distribution"] == "normal" and metadata["photo_realism"] == "off"


def test_table2_presets_follow_the_paper():
  from configs import table2_celebahq256_progan
  celebahq, imagenet = table2_celebahq256_progan.get_config(), table2_imagenet256_biggan.get_config()
  assert (celebahq.generator, celebahq.output_resolution, celebahq.data.resolution) == ("progan-128", 256, 256)
  assert (celebahq.masks.kind, celebahq.masks.min_side, celebahq.masks.max_side) == ("rectangle", 96, 128)
  assert (imagenet.generator, imagenet.class_index, imagenet.data.source) == ("biggan-256", -1, "imagenet")
  assert imagenet.masks.kind == "central" and tuple(imagenet.masks.mixture_sizes) == (96, 112, 128)
  for config in (celebahq, imagenet):
    assert config.photo_realism == "critic" and config.discriminator.endswith("export/critic")
  masks = next(iter(prior.make_mask_dataset(imagenet, resolution=256, seed=0).batch(30))).numpy()
  sides = {int(round(np.sqrt(m.sum()))) for m in masks}
  assert sides <= {96, 112, 128} and len(sides) > 1
  for mask in masks:  # central
    side = int(round(np.sqrt(mask.sum())))
    start = (256 - side) // 2
    assert mask[start:start + side, start:start + side].all()
