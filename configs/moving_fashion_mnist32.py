"""Table 3 pattern, stage 1 for a fair §4.3 test (issue 13): a DCGAN on the frames of moving Fashion-MNIST clips.

Paper: §4.3 and Table 3 use a PG-GAN trained on FaceForensics frames, i.e. on the very frames the
sequence priors inpaint. The bundled Fashion-MNIST G draws centred 28 px garments and cannot
draw the moving, off-centre 20 px items of the clips, so any grouped prior against it is capped
by G. This G is trained on the frames of the 20,000 training clips the sequence presets use
(data source moving_fashion_mnist_frames).
Run:     python -m binaries.train_gan --config=configs/moving_fashion_mnist32.py --workdir=runs/moving_fmnist32
Smoke:   python -m binaries.train_gan --config=configs/moving_fashion_mnist32.py:smoke --workdir=/tmp/smoke
Expect:  off-centre garments in samples_latest.png; configs/moving_fashion_mnist32_sequence_prior.py
         trains M_{z+L} and its per-frame ablation against it (RESULTS.md, Table 3 pattern).
Differs from the paper: moving Fashion-MNIST at 32 px instead of FaceForensics at 128 px, a DCGAN
instead of PG-GAN; the preset of configs/fashion_mnist32.py with another data source.
"""

from configs import fashion_mnist32


def get_config(arg: str | None = None):
  config = fashion_mnist32.get_config(arg)
  config.name = "moving_fashion_mnist32" + ("_smoke" if arg == "smoke" else "")
  config.data.source = "moving_fashion_mnist_frames"
  return config
