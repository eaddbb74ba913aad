"""What each kind of keypoint refiner f (Eq. 9, §4.2) is chosen by, on validation data.

One entry per training-data kind of f (config.data.kind): the setting that is swept, its
default values, how f is measured on val and at which condition the choice is made.
`binaries/sweep_refiner.py` trains f once per value and seed and calls `prepare(...)(refine)`.

  silhouette       hole_drop_fraction; error of f's completed silhouette keypoints where a
                   Table 1 hole hides them, on val images (`silhouette_completion`).
  synthetic_faces  lfw_dlib_fraction; RLE (§6.2) of f's 68 points against dlib's points on the
                   unmasked face, with each half of the face box masked in turn, on the LFW
                   subset's validation faces (70-99; f trains on 0-69). The astronaut only reports.
"""

from __future__ import annotations

import dataclasses
from typing import Callable

import numpy as np

from pgi_tf.data import datasets
from pgi_tf.errors import InputError
from pgi_tf.evaluation import images as image_evaluation
from pgi_tf.evaluation import landmarks as landmark_evaluation
from pgi_tf.evaluation import silhouette_completion
from pgi_tf.structural import face_detection

Measure = Callable[[Callable], list[dict]]


@dataclasses.dataclass(frozen=True)
class RefinerSelection:
  """How one kind of f is chosen.

  parameter: the swept config field (dotted, under the preset's config).
  default_values: the values tried when --values is not given.
  prepare: (config, split=, num_images=, seed=) -> (measure, sample description); measure(refine)
    gives rows {"condition", "error_refined", "error_baseline", ...} for one trained f.
  choose_by: the condition whose mean error over seeds picks the value.
  baseline: what f is compared with in every row.
  error: what the error is, for the table's note.
  max_value: the largest value the setting takes.
  """
  title: str
  parameter: str
  default_values: tuple[float, ...]
  prepare: Callable[..., tuple[Measure, str]]
  choose_by: str
  baseline: str
  error: str
  max_value: float = 1.0


def _prepare_silhouette(config, *, split: str, num_images: int, seed: int) -> tuple[Measure, str]:
  resolution, num_rays = int(config.data.resolution), int(config.data.num_rays)
  images = next(iter(datasets.make_image_dataset(
      source=config.data.source, data_dir=config.data.data_dir or None, split=split,
      resolution=resolution, channels=int(config.data.channels), batch_size=num_images,
      shuffle=False, repeat=False, drop_remainder=False))).numpy()
  mean_shape = silhouette_completion.mean_silhouette(images, num_rays=num_rays)
  # Detections, switches and the baseline do not depend on f: once per hole ratio, not per f.
  cases = {ratio: silhouette_completion.CompletionCase(
      images, image_evaluation.evaluation_masks(count=len(images), resolution=resolution, hole_ratio=ratio,
                                                seed=seed), num_rays=num_rays, mean_shape=mean_shape)
           for ratio in (0.1, 0.4)}

  def measure(refine):
    rows = []
    for ratio, case in cases.items():
      errors = case.errors(refine)
      rows.append({"condition": f"{ratio:.0%} holes", "error_refined": errors["mean_hidden_error_refined"],
                   "error_baseline": errors["mean_hidden_error_mean_shape_fill"],
                   "hidden_fraction": errors["hidden_fraction"]})
    return rows

  return measure, f"{len(images)} images"


def _prepare_faces(config, *, split: str, num_images: int, seed: int) -> tuple[Measure, str]:
  del config, seed  # the faces and the half masks are fixed
  faces = face_detection.lfw_subset_faces(split=split)[:num_images]

  def measure(refine):
    errors = {side: {"refined": [], "raw": []} for side in landmark_evaluation.MASK_SIDES}
    for index, image in faces:
      for side in landmark_evaluation.MASK_SIDES:
        try:
          result = landmark_evaluation.astronaut_experiment(refiner=refine, mask_side=side, image=image,
                                                            name=f"lfw_subset[{index}]")
        except InputError as error:
          if "no face found" not in str(error):
            raise
          continue  # dlib misses this face unmasked: no reference
        errors[side]["refined"].append(result["mean_rle"]["refined"])
        errors[side]["raw"].append(result["mean_rle"]["raw"])
    rows = [{"condition": f"{side} half", "error_refined": float(np.mean(e["refined"])),
             "error_baseline": float(np.mean(e["raw"])), "num_faces": len(e["refined"])}
            for side, e in errors.items()]
    rows.append({"condition": "all halves", "error_refined": float(np.mean([r["error_refined"] for r in rows])),
                 "error_baseline": float(np.mean([r["error_baseline"] for r in rows])),
                 "num_faces": rows[0]["num_faces"]})
    return rows

  return measure, f"{len(faces)} LFW-subset faces (4 half masks each)"


SELECTIONS = {
    "silhouette": RefinerSelection(
        title="Silhouette refiner: hole-shaped drops chosen on the validation split",
        parameter="train.hole_drop_fraction", default_values=(0.0, 0.25, 0.5, 0.75, 0.9, 1.0),
        prepare=_prepare_silhouette, choose_by="40% holes", baseline="mean shape",
        error="Mean L2 error (fractions of the image side) on the silhouette keypoints a Table 1 hole hides"),
    "synthetic_faces": RefinerSelection(
        title="Face refiner: share of real (dlib-on-LFW) shapes chosen on validation faces",
        parameter="data.lfw_dlib_fraction", default_values=(0.0, 0.25, 0.5),
        prepare=_prepare_faces, choose_by="all halves", baseline="raw dlib",
        error="Mean RLE (§6.2) over the 68 points against dlib on the unmasked face, half the face box masked",
        max_value=0.99),  # the trainer needs some synthetic shapes
}


def get_selection(kind: str) -> RefinerSelection:
  if kind not in SELECTIONS:
    raise InputError(f"--config: data.kind is {kind!r}; refiner sweeps exist for {', '.join(SELECTIONS)}")
  return SELECTIONS[kind]
