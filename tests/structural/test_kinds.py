"""The one table of structural prior kinds: every entry complete, unknown names refused, and the
same answers the callers got before the table existed (hand-written values)."""

import ml_collections
import pytest
import tensorflow as tf

from pgi_tf import structural
from pgi_tf.errors import InputError
from pgi_tf.structural import landmarks
from pgi_tf.structural import silhouette


def test_table_lists_both_kinds_and_none_first():
  assert structural.NAMES == ("none", "silhouette", "landmarks")
  assert set(structural.KINDS) == {"silhouette", "landmarks"}
  for name, kind in structural.KINDS.items():
    assert kind.name == name
    assert callable(kind.build) and callable(kind.real_condition_fn) and callable(kind.condition_dim)
    assert kind.description and kind.refiner_hint


def test_condition_dims_by_hand():
  assert structural.condition_dim("none") == 0
  assert structural.condition_dim("silhouette", num_rays=16) == 32
  assert structural.condition_dim("silhouette", num_rays=5) == 10
  assert structural.condition_dim("landmarks") == 136


@pytest.mark.parametrize("call", [
    lambda: structural.check_kind("edges", flag="--structural_prior"),
    lambda: structural.get_kind("edges"),
    lambda: structural.condition_dim("edges"),
    lambda: structural.load_structural_prior("edges", refiner_path="x"),
])
def test_unknown_kind_is_a_one_line_error(call):
  with pytest.raises(InputError, match=r"edges: choose one of none, silhouette, landmarks$"):
    call()


def test_none_has_no_prior_and_no_real_conditions():
  assert structural.load_structural_prior("none", refiner_path="") is None
  assert structural.real_condition_fn("none", ml_collections.ConfigDict({"num_rays": 16})) is None


def test_xla_and_coordinates_per_kind():
  assert silhouette.KIND.xla_compatible and silhouette.KIND.image_coordinates
  assert not landmarks.KIND.xla_compatible and not landmarks.KIND.image_coordinates
  assert landmarks.KIND.refiner_keypoints == 68 and silhouette.KIND.refiner_keypoints is None


def test_silhouette_real_conditions_match_the_detector():
  images = -tf.ones([2, 16, 16, 1])
  images = tf.tensor_scatter_nd_update(images, [[0, 8, 8, 0], [1, 3, 12, 0]], [1.0, 1.0])
  condition_fn = structural.real_condition_fn("silhouette", ml_collections.ConfigDict({"num_rays": 8}))
  expected = silhouette.flatten(silhouette.silhouette_keypoints(images, num_rays=8)[0])
  assert condition_fn(images).shape == (2, 16)
  assert tf.reduce_all(condition_fn(images) == expected)


def test_gan_metadata_per_kind():
  model = ml_collections.ConfigDict({"num_rays": 12, "landmark_upsample": 2})
  assert silhouette.KIND.gan_metadata(model) == {"num_rays": 12}
  assert landmarks.KIND.gan_metadata(model)["num_rays"] == 0
  assert landmarks.KIND.gan_metadata(model)["landmark_upsample"] == 2


def test_export_inputs_of_each_prior():
  refiner = lambda k, d: k
  silhouette_prior = silhouette.KIND.build(refiner, num_rays=8)
  landmark_prior = landmarks.KIND.build(refiner, num_rays=0)
  assert silhouette_prior.graph_input_specs() == []
  assert [spec.name for spec in landmark_prior.graph_input_specs()] == ["keypoints", "switches"]
  assert silhouette_prior.keep_visible and not landmark_prior.keep_visible
  keypoints = tf.constant([[[0.25, 0.5]] * 68])
  switches = tf.ones([1, 68])
  condition = landmark_prior.condition_in_graph(None, None, keypoints, switches)
  assert condition.shape == (1, 136) and float(condition[0, 0]) == 0.25 and float(condition[0, 1]) == 0.5
