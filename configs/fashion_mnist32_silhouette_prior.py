"""M_{z+S} on Fashion-MNIST at 32 px: P conditioned on the refined silhouette prior (§4.2, Table 1).

Paper: M_{z+S} conditions P and G on the refined facial landmarks of the masked face (§4.2)
and beats M_z in Table 1. Here S is the generic silhouette prior (beyond the paper,
`pgi_tf.structural.silhouette`): 16 silhouette keypoints of the masked image, hidden ones
completed by the frozen keypoint refiner f (Eq. 9), visible ones kept as detected.
    z = P(I_d, M, S),  Î = I_d + M ⊙ G(z, S)   (G, D: configs/fashion_mnist32_silhouette.py)
Run:     python -m binaries.train_prior --config=configs/fashion_mnist32_silhouette_prior.py --workdir=runs/fmnist32_silhouette_prior
Smoke:   python -m binaries.train_prior --config=configs/fashion_mnist32_silhouette_prior.py:smoke --workdir=/tmp/p
Expect:  the bundled hub_modules/fashion_mnist32_silhouette/prior_predictor; everything else
         (masks, λ1, λ2, steps, schedule) equals the M_z preset, configs/fashion_mnist32_prior.py, so
         `binaries/evaluate.py --structural_prior=none,silhouette` compares like with like.
The bundled P predates the validation split and the per-known-pixel Eq. 4 / Eq. 6: it was
trained with λ1 = 0.003, λ2 = 1 and the earlier normalisation, against a G and D that saw all
60,000 training-file images (RESULTS.md says so beside its rows).
Differs from the paper: S is a silhouette (16 keypoints on rays from the centre), not facial
landmarks: Fashion-MNIST has no faces; the face version is configs/celeba64_landmarks_prior.py.
"""

from configs import fashion_mnist32_prior


def get_config(arg: str | None = None):
  config = fashion_mnist32_prior.get_config(arg)
  config.name = "fashion_mnist32_silhouette_prior" + ("_smoke" if arg == "smoke" else "")
  config.generator = "hub_modules/fashion_mnist32_silhouette/generator"
  config.discriminator = "hub_modules/fashion_mnist32_silhouette/discriminator"
  config.structural_prior = "silhouette"
  config.keypoint_refiner = "hub_modules/fashion_mnist32_silhouette/keypoint_refiner"
  return config
