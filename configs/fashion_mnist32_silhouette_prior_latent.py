"""Table 1, M_{z+S} with latent consistency (beyond the paper, issue 13): the structural P also inverts G(z, S).

Paper: §4.2's M_{z+S}, z = P(I_d, M, S), Î = I_d + M ⊙ G(z, S). Here the bundled M_{z+S} P is
fine-tuned with the term that helped M_z (configs/fashion_mnist32_prior_latent.py): each step
also draws G(z, S) with the batch's own S, masks it with the same holes and asks
P(M̄ ⊙ G(z, S), M, S) ≈ z (`pgi_tf.losses.latent_consistency_loss`, weight 1).
Run:     python -m binaries.train_prior --config=configs/fashion_mnist32_silhouette_prior_latent.py --workdir=runs/fmnist32_silhouette_prior_latent
Smoke:   python -m binaries.train_prior --config=configs/fashion_mnist32_silhouette_prior_latent.py:smoke --workdir=/tmp/p
Expect:  the M_{z+S} rows of Table 1 (RESULTS.md, `binaries/evaluate.py --structural_prior=none,silhouette`).
Differs from the paper: the extra term; 4,000 more steps from the bundled M_{z+S} P, whose G, D and
refiner predate the validation split (configs/fashion_mnist32_silhouette_prior.py says how).
"""

from configs import fashion_mnist32_silhouette_prior
from configs import prior_defaults


def get_config(arg: str | None = None):
  config = fashion_mnist32_silhouette_prior.get_config(arg)
  config.name = "fashion_mnist32_silhouette_prior_latent" + ("_smoke" if arg == "smoke" else "")
  config.loss.lambda_latent = 1.0
  config.train.warm_start = "hub_modules/fashion_mnist32_silhouette/prior_predictor"
  if arg != "smoke":
    config.train.num_steps = prior_defaults.FASHION_MNIST32_VARIANT_STEPS
  else:
    config.train.warm_start = ""
  return config
