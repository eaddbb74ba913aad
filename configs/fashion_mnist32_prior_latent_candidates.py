"""Table 1, one pass with K candidates and latent consistency (beyond the paper, issue 13).

Paper: §4.1's P with both changes of configs/fashion_mnist32_prior_candidates.py (8 heads,
relaxed best-of-K on Eq. 7, the lowest Eq. 4 pasted) and configs/fashion_mnist32_prior_latent.py
(P(M̄ ⊙ G(z), M) ≈ z on G's own samples, weight 1; with K heads the closest head is scored).
Run:     python -m binaries.train_prior --config=configs/fashion_mnist32_prior_latent_candidates.py --workdir=runs/fmnist32_prior_latent_candidates
Smoke:   python -m binaries.train_prior --config=configs/fashion_mnist32_prior_latent_candidates.py:smoke --workdir=/tmp/p
Expect:  the val table of one-pass variants (results/prior_variants_val, RESULTS.md).
Differs from the paper: both terms; starts from the bundled P and trains 4,000 more steps at batch 32.
"""

from configs import prior_defaults


def get_config(arg: str | None = None):
  return prior_defaults.fashion_mnist32_variant(
      name="fashion_mnist32_prior_latent_candidates", arg=arg,
      **{"prior.num_candidates": 8, "loss.candidate_relaxation": 0.05, "loss.lambda_latent": 1.0,
         "train.batch_size": 32})
