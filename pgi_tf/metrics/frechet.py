"""The Frechet distance between Gaussians fitted to features (FID and its relatives).

FID (Heusel et al., 2017) fits a Gaussian N(mu, C) to the features of each image set and
reports the Frechet (2-Wasserstein) distance between the two Gaussians:

  FD = ||mu1 - mu2||^2 + Tr(C1 + C2 - 2 (C1 C2)^{1/2}).

It is FID only when the features are Inception pool_3 features; with another extractor (the
project's Fashion-MNIST classifier, I3D for video) it is a Frechet distance in that
network's feature space, and numbers from different extractors are not comparable. So every
number leaves this module as a `FrechetResult` that carries the extractor's name.

TF-GAN (whose `frechet_classifier_distance` most TF code used) does not import on TF >= 2.16,
so the maths is implemented here in float64 numpy.

Computing Tr((C1 C2)^{1/2}) stably: C1 C2 is not symmetric, and a general matrix square root
(`scipy.linalg.sqrtm`) can return complex values from rounding. But AB and BA have the same
eigenvalues, so with S = C1^{1/2} (symmetric PSD), C1 C2 = S (S C2) has the eigenvalues of
(S C2) S = S C2 S, which is symmetric PSD. The principal square root of C1 C2 has the square
roots of those eigenvalues, hence

  Tr((C1 C2)^{1/2}) = sum_i sqrt(lambda_i(S C2 S)),

computed with `numpy.linalg.eigvalsh`; tiny negative eigenvalues from rounding are clipped to
0. This holds for singular covariances too (fewer samples than dimensions), where pytorch-fid
has to add an epsilon to the diagonal. A final value below 0 (rounding, identical statistics)
is clipped to 0.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from pgi_tf.metrics import extractors


class FrechetResult(NamedTuple):
  """A Frechet distance and what produced it, so that tables can label every number."""
  value: float
  extractor: str      # FeatureExtractor.name, e.g. "inception_pool3:<handle>"
  num_samples: int    # images per set (the smaller set's size if they differ)

  def label(self) -> str:
    """e.g. "Frechet distance 12.345 (inception_pool3:<handle>, N=10000)"."""
    return f"Frechet distance {self.value:.3f} ({self.extractor}, N={self.num_samples})"


def gaussian_statistics(features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
  """Mean [D] and unbiased covariance [D, D] (rowvar=False, ddof=1) of features [N, D]."""
  features = np.asarray(features, dtype=np.float64)
  if features.ndim != 2:
    raise ValueError(f"features: expected [N, D], got shape {features.shape}")
  if features.shape[0] < 2:
    raise ValueError(f"features: need at least 2 samples for a covariance, got {features.shape[0]}")
  mean = features.mean(axis=0)
  covariance = np.atleast_2d(np.cov(features, rowvar=False, ddof=1))
  return mean, covariance


def _symmetric(matrix: np.ndarray) -> np.ndarray:
  return 0.5 * (matrix + matrix.T)


def sqrtm_psd(matrix) -> np.ndarray:
  """The symmetric PSD square root of a symmetric PSD matrix, via eigendecomposition.

  V diag(sqrt(max(lambda, 0))) V^T; the input is symmetrised first and negative eigenvalues
  from rounding are clipped to 0, so the result is always real and symmetric.
  """
  matrix = np.asarray(matrix, dtype=np.float64)
  if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1]:
    raise ValueError(f"matrix: expected a square matrix, got shape {matrix.shape}")
  eigenvalues, eigenvectors = np.linalg.eigh(_symmetric(matrix))
  roots = np.sqrt(np.clip(eigenvalues, 0.0, None))
  return _symmetric((eigenvectors * roots) @ eigenvectors.T)


def _check_statistics(mean, covariance, which: str) -> tuple[np.ndarray, np.ndarray]:
  mean = np.atleast_1d(np.asarray(mean, dtype=np.float64))
  covariance = np.atleast_2d(np.asarray(covariance, dtype=np.float64))
  if mean.ndim != 1 or covariance.shape != (mean.shape[0], mean.shape[0]):
    raise ValueError(f"{which}: mean {mean.shape} and covariance {covariance.shape} do not "
                     "describe one D-dimensional Gaussian")
  return mean, covariance


def frechet_distance(*, mean1, cov1, mean2, cov2) -> float:
  """||mu1 - mu2||^2 + Tr(C1 + C2 - 2 (C1 C2)^{1/2}), the trace term as in the module docstring.

  Args:
    mean1, cov1: mean [D] and covariance [D, D] of the first Gaussian.
    mean2, cov2: the second Gaussian's.

  Returns:
    The distance as a Python float, >= 0.
  """
  mean1, cov1 = _check_statistics(mean1, cov1, "mean1/cov1")
  mean2, cov2 = _check_statistics(mean2, cov2, "mean2/cov2")
  if mean1.shape != mean2.shape:
    raise ValueError(f"the two Gaussians have different dimensions: {mean1.shape[0]} and "
                     f"{mean2.shape[0]}")
  root1 = sqrtm_psd(cov1)
  eigenvalues = np.linalg.eigvalsh(_symmetric(root1 @ cov2 @ root1))
  trace_sqrt_product = float(np.sum(np.sqrt(np.clip(eigenvalues, 0.0, None))))
  difference = mean1 - mean2
  value = float(difference @ difference + np.trace(cov1) + np.trace(cov2)
                - 2.0 * trace_sqrt_product)
  return max(value, 0.0)


def frechet_distance_from_features(features1, features2) -> float:
  """The Frechet distance between Gaussians fitted to two feature sets [N1, D] and [N2, D]."""
  mean1, cov1 = gaussian_statistics(features1)
  mean2, cov2 = gaussian_statistics(features2)
  return frechet_distance(mean1=mean1, cov1=cov1, mean2=mean2, cov2=cov2)


def frechet_result(*, extractor, images, reference_images, batch_size: int = 64) -> FrechetResult:
  """Extracts features of two image sets with `extractor` and returns their labelled distance.

  Args:
    extractor: a `extractors.FeatureExtractor` (its `name` labels the result).
    images: generated / inpainted images: array [N, H, W, C] in [-1, 1] or a tf.data.Dataset
      (see `extractors.compute_features`).
    reference_images: the real images, same forms.
    batch_size: images per extractor call for arrays.
  """

  features = extractors.compute_features(extractor, images, batch_size=batch_size)
  reference_features = extractors.compute_features(extractor, reference_images,
                                                   batch_size=batch_size)
  value = frechet_distance_from_features(features, reference_features)
  return FrechetResult(value=value, extractor=extractor.name,
                       num_samples=int(min(len(features), len(reference_features))))
