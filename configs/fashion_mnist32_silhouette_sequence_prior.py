r"""M_{z+S+L} on moving Fashion-MNIST at 32 px: grouped priors with a structural prior per frame (§4.2 + §4.3, Table 3).

Paper: Table 3's best row combines the two: the silhouette (here) / landmark (faces) prior S^t of
each masked frame conditions the shared CNN, G and D, and the LSTM groups the window's priors.
Run:     python -m binaries.train_sequence_prior --config=configs/fashion_mnist32_silhouette_sequence_prior.py \
             --workdir=runs/fmnist32_seq_s
Ablation M_{z+S} (the LSTM state reset every frame, same data):
         ... --config.sequence.per_frame=True --workdir=runs/fmnist32_seq_s_per_frame
Smoke:   python -m binaries.train_sequence_prior --config=configs/fashion_mnist32_silhouette_sequence_prior.py:smoke \
             --workdir=/tmp/ss
Evaluate: python -m binaries.evaluate --sequences --structural_prior=silhouette \
             --sequence_models="M_{z+S+L}=runs/fmnist32_seq_s/export/sequence_prior"
Expect:  RESULTS.md, "Sequences".
Differs from the paper: as configs/fashion_mnist32_sequence_prior.py, with the bundled silhouette
G(z, S), D(x, S) and refiner f (hub_modules/fashion_mnist32_silhouette) instead of face landmarks;
the CNN starts from the bundled P(I_d, M, S).
"""

from configs import fashion_mnist32_sequence_prior


def get_config(arg: str | None = None):
  config = fashion_mnist32_sequence_prior.get_config(arg)
  config.name = "fashion_mnist32_silhouette_sequence_prior" + ("_smoke" if arg == "smoke" else "")
  config.generator = "hub_modules/fashion_mnist32_silhouette/generator"
  config.discriminator = "hub_modules/fashion_mnist32_silhouette/discriminator"
  config.structural_prior = "silhouette"
  config.keypoint_refiner = "hub_modules/fashion_mnist32_silhouette/keypoint_refiner"
  if arg != "smoke":
    config.train.warm_start = "hub_modules/fashion_mnist32_silhouette/prior_predictor"
  return config
