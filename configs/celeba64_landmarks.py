"""CelebA at 64 px, G(z, S) and D(x, S) conditioned on 68 facial landmarks: M_{z+S}'s GAN (§4.2, Table 1).

Paper: §4.2 "During GAN training, we condition both the generator and discriminator on such
priors": S = the 68 facial landmarks of the real face (FAN [7]), (x, y) in [0, 1] of the face
box; Table 1 reports M_{z+S} above M_z on CelebA (PSNR 24.1 vs 23.4 at 10% holes).
Here the landmarks are dlib's (same iBUG 68-point scheme; `pgi_tf.structural.face_detection`),
detected on each real training image through tf.numpy_function (`pgi_tf.train.gan`, structural
prior "landmarks") and flattened to a 136-vector concatenated to z in G and projected onto D's
features (projection discriminator). When dlib finds no face, the whole 64 px crop is the box
(aligned CelebA crops are filled by the face).
Run:     python -m binaries.train_gan --config=configs/celeba64_landmarks.py --config.data.data_dir=/data/celeba --workdir=runs/celeba64_landmarks
Smoke:   python -m binaries.train_gan --config=configs/celeba64_landmarks.py:smoke --config.data.data_dir=... --workdir=/tmp/l
Expect:  not run here (no CelebA offline); exports runs/celeba64_landmarks/export/{generator,discriminator},
         which configs/celeba64_landmarks_prior.py trains P against.
Differs from the paper: dlib instead of FAN; no landmark heatmap for D (a bare 136-vector,
projected); dlib runs in the input step (~5 ms per image on one core, no XLA) -- cache the
landmarks per image if that dominates a real run. Everything else equals configs/celeba64.py.
"""

from configs import celeba64


def get_config(arg: str | None = None):
  config = celeba64.get_config(arg)
  config.unlock()  # this preset adds fields of its own; locked again before it is returned
  config.name = "celeba64_landmarks" + ("_smoke" if arg == "smoke" else "")
  config.model.structural_prior = "landmarks"  # condition_dim = 2 * 68 (pgi_tf.train.gan.condition_dim)
  config.model.landmark_upsample = 1  # dlib's detector finds 64 px aligned faces without more
  config.model.condition_map = ""     # projection D: the silhouette shape map does not apply
  config.train.jit_compile = False    # dlib (tf.numpy_function) cannot be XLA-compiled
  config.lock()
  return config
