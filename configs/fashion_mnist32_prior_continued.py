"""Table 1, the control of the one-pass variants (issue 13): the paper's P trained 4,000 steps more.

Paper: §4.1, Eq. 7, unchanged. The variants (fashion_mnist32_prior_candidates, _latent) start
from the bundled P and train 4,000 more steps; this preset does the same with nothing changed, so
a variant's gain over it is the change's, not the extra steps'.
Run:     python -m binaries.train_prior --config=configs/fashion_mnist32_prior_continued.py --workdir=runs/fmnist32_prior_continued
Smoke:   python -m binaries.train_prior --config=configs/fashion_mnist32_prior_continued.py:smoke --workdir=/tmp/p
Expect:  the val table of one-pass variants (results/prior_variants_val, RESULTS.md).
Differs from the paper: the training holes and λ of configs/fashion_mnist32_prior.py.
"""

from configs import prior_defaults


def get_config(arg: str | None = None):
  return prior_defaults.fashion_mnist32_variant(name="fashion_mnist32_prior_continued", arg=arg)
