"""pgi_tf: Prior Guided GAN Based Semantic Inpainting (Lahiri et al., CVPR 2020) in TF2 / Keras 3.

Stages follow the paper: `pgi_tf.data` (datasets, masks), `pgi_tf.models` (one file per
network), `pgi_tf.losses` (Eq. 1-7, 9, 10), `pgi_tf.train` (one module per stage),
`pgi_tf.hub` (modules through which every frozen G and D is loaded), `pgi_tf.metrics`.
"""

__version__ = "0.1.0"
