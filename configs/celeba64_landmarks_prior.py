"""M_{z+S} on CelebA at 64 px: P conditioned on the refined facial landmarks of the masked face (§4.2, Table 1).

Paper: z = P(I_d, M, S), Î = I_d + M ⊙ G(z, S) (Eq. 8), S = f(K, d): the 68 landmarks
detected on the masked face (FAN [7]), hidden ones (d = 0) completed and visible ones refined
by the keypoint refiner f (Eq. 9). Table 1, CelebA, "Ours (M_{z+S})" row.
Here: K, d from dlib on the masked image (`pgi_tf.structural.landmarks.LandmarkPrior`; no face
found -> the whole crop is the face box), f = the bundled face refiner
(hub_modules/face_landmarks/keypoint_refiner, configs/keypoint_refiner_faces.py), f's output
used everywhere (keep_visible off, as in the paper).
Run:     python -m binaries.train_prior --config=configs/celeba64_landmarks_prior.py --config.data.data_dir=/data/celeba --workdir=runs/celeba64_landmarks_prior
Smoke:   python -m binaries.train_prior --config=configs/celeba64_landmarks_prior.py:smoke --config.data.data_dir=... --config.generator=... --config.discriminator=... --workdir=/tmp/p
Expect:  not run here (no CelebA offline). Exports prior_predictor/ and inpainter/; the inpainter
         SavedModel takes dlib's (keypoints, switches) as inputs besides images and masks
         (`pgi_tf.inference.export.export_inpainter`).
Differs from the paper: dlib instead of FAN; f trained on synthetic and LFW face shapes, not
LS3D-W; λ1, λ2 are the Fashion-MNIST preset's (configs/fashion_mnist32_prior.py); jit_compile off
(dlib runs through tf.numpy_function).
"""

from configs import prior_defaults


def get_config(arg: str | None = None):
  config = prior_defaults.prior_config()
  config.name = "celeba64_landmarks_prior"
  config.generator = "runs/celeba64_landmarks/export/generator"          # configs/celeba64_landmarks.py
  config.discriminator = "runs/celeba64_landmarks/export/discriminator"
  config.structural_prior = "landmarks"
  config.keypoint_refiner = "hub_modules/face_landmarks/keypoint_refiner"
  config.data.source = "celeba"
  config.data.resolution = 64
  config.data.channels = 3
  config.masks.kind = "square"
  config.masks.size = 0                  # 32x32 at 64 px, at random locations (§6.3)
  config.loss.lambda_realism = 0.003     # λ1: untuned default (not given in the paper)
  config.loss.lambda_gradient = 1.0      # λ2 (same)
  config.train.num_steps = 20000
  config.train.jit_compile = False       # dlib (tf.numpy_function) cannot be XLA-compiled
  if arg == "smoke":
    config = prior_defaults.make_smoke(config)
  return config
