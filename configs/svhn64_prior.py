"""Stage 2 on SVHN (cropped digits) at 64 px: Table 1, SVHN (cropped digits) columns, the "Ours (M_z)" row (§4.1, §6.3).

Paper: SVHN crops resized to 64x64; the provider's train / test split; DCGAN frozen after stage 1 (configs/svhn64.py); P trained with Eq. 7 on
holes of 32x32 at random places (§6.3: "For training our model we use square masks of
32x32"); Table 1 evaluates 10% and 40% hole ratios on the test split.
Run:     python -m binaries.train_prior --config=configs/svhn64_prior.py --config.data.data_dir=/data/svhn \
             --workdir=runs/svhn64_prior
         (after python -m binaries.train_gan --config=configs/svhn64.py --config.data.data_dir=/data/svhn --workdir=runs/svhn64)
         then python -m binaries.evaluate --model_dir=runs/svhn64_prior/export --source=svhn --data_dir=/data/svhn \
             --num_images=10000 --fd_extractor=inception:<local copy of tfgan/eval/inception/1>
Smoke:   python -m binaries.train_prior --config=configs/svhn64_prior.py:smoke --config.data.data_dir=<fixture> \
             --config.generator=<16-px RGB G> --config.discriminator=<its D> --workdir=/tmp/p
Expect:  not run here (no SVHN (cropped digits) offline). Paper, Table 1: see configs/svhn64.py's header.
Differs from the paper: λ1, λ2 (not given in the paper) are the Fashion-MNIST validation sweep's;
SVHN has no val split: hold out part of train with a split list before choosing anything on it.
"""

from configs import prior_defaults


def get_config(arg: str | None = None):
  return prior_defaults.table1_64px_prior(name="svhn64_prior", source="svhn", arg=arg)
