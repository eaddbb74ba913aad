"""Table 1, one pass with latent consistency (beyond the paper, issue 13): P also inverts G's own samples.

Paper: §4.1 trains P on real images with Eq. 7 only. Here each step adds G's samples, masked with
the same holes, and the term mean (P(M̄ ⊙ G(z), M) - z)² (`pgi_tf.losses.latent_consistency_loss`,
weight 1): the one kind of image whose z is known, so P learns latents G can draw. Costs nothing
at inference.
Run:     python -m binaries.train_prior --config=configs/fashion_mnist32_prior_latent.py --workdir=runs/fmnist32_prior_latent
Smoke:   python -m binaries.train_prior --config=configs/fashion_mnist32_prior_latent.py:smoke --workdir=/tmp/p
Expect:  the val table of one-pass variants (results/prior_variants_val, RESULTS.md). Chosen there:
         the bundled default P, hub_modules/fashion_mnist32/prior_predictor, is this preset
         (what `inpaint --mode=single`, scripts/demo.sh and the Python API's mode="single" use).
         The bundled P was trained before issue 14 fixed the term's sampling (it drew the same 64 z
         every step); this preset now draws a fresh batch per step, and that P ties with the bundled
         one on val (results/latent_term_fix_val: FD at 40% 2.809 vs 2.833, PSNR 18.58 vs 18.66 dB).
Differs from the paper: the extra term; starts from the bundled P and trains 4,000 more steps.
"""

from configs import prior_defaults


def get_config(arg: str | None = None):
  return prior_defaults.fashion_mnist32_variant(name="fashion_mnist32_prior_latent", arg=arg,
                                                **{"loss.lambda_latent": 1.0})
