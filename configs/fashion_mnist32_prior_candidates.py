"""Table 1, one pass with K candidates (beyond the paper, issue 13): P proposes 8 latents per image.

Paper: §4.1's P predicts one z; §6.3.1 compares it with Yeh et al.'s search, which commits to one
completion where P regresses to the average one. Here P has 8 heads, trained with the relaxed
best-of-K rule on Eq. 7 (`pgi_tf.losses.best_of_candidates`, ε = 0.05); at inference G draws all
8 in one batch and the one with the lowest Eq. 4 is pasted (`pgi_tf.inference.candidates`).
Run:     python -m binaries.train_prior --config=configs/fashion_mnist32_prior_candidates.py --workdir=runs/fmnist32_prior_candidates
Smoke:   python -m binaries.train_prior --config=configs/fashion_mnist32_prior_candidates.py:smoke --workdir=/tmp/p
Expect:  the val table of one-pass variants (results/prior_variants_val, RESULTS.md).
Differs from the paper: everything above; starts from the bundled P (its heads copied, 7 of them
shifted) and trains 4,000 more steps at batch 32 (8 x 32 images through G per step).
"""

from configs import prior_defaults


def get_config(arg: str | None = None):
  return prior_defaults.fashion_mnist32_variant(
      name="fashion_mnist32_prior_candidates", arg=arg,
      **{"prior.num_candidates": 8, "loss.candidate_relaxation": 0.05, "train.batch_size": 32})
