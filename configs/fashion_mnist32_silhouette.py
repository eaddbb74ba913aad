"""Fashion-MNIST at 32 px, G(z, S) and D(x, S) conditioned on a structural prior (§4.2, Fig. 6).

Paper: §4.2 conditions G and D on 68 facial landmarks (CelebA, LS3D-W), which are not
available offline. Here S is the generic silhouette prior (beyond the paper)
(`pgi_tf.structural.silhouette`): 16 keypoints, the outermost foreground pixel on 16 rays
from the image centre, as (x, y) in [0, 1] -> a 32-vector concatenated to z in G, and
rendered as a shape map (the polygon the keypoints span) that D sees next to the image and G
at every scale (`pgi_tf.models.dcgan`, condition_map="silhouette").
Run:     python -m binaries.train_gan --config=configs/fashion_mnist32_silhouette.py --workdir=runs/fmnist32_silhouette
Smoke:   python -m binaries.train_gan --config=configs/fashion_mnist32_silhouette.py:smoke --workdir=/tmp/s
Expect:  the bundled hub_modules/fashion_mnist32_silhouette/{generator,discriminator} are this
         preset at 8,000 steps, like the unconditioned fashion_mnist32 (M_z's G): the two differ
         only by the condition. Samples follow their priors (tests/test_structural_gan.py).
Differs from the paper: silhouette keypoints instead of facial landmarks; 32 px, 1 channel.
"""

from configs import fashion_mnist32


def get_config(arg: str | None = None):
  config = fashion_mnist32.get_config(arg)
  config.name = "fashion_mnist32_silhouette" + ("_smoke" if arg == "smoke" else "")
  config.model.structural_prior = "silhouette"
  config.model.num_rays = 16
  # A bare 32-vector (concatenated to z, projected onto D's features) collapsed G within 2,000
  # steps; the rendered shape map (pgi_tf.structural.silhouette.SilhouetteMap) fed to D next to
  # the image and to G at every scale trains like the unconditioned preset.
  config.model.condition_map = "silhouette"
  return config
