"""Stage 2 on Stanford Cars at 64 px: Table 1, Stanford Cars columns, the "Ours (M_z)" row (§4.1, §6.3).

Paper: cars cut out with the devkit's boxes and resized to 64x64; the provider's train / test split; DCGAN frozen after stage 1 (configs/cars64.py); P trained with Eq. 7 on
holes of 32x32 at random places (§6.3: "For training our model we use square masks of
32x32"); Table 1 evaluates 10% and 40% hole ratios on the test split.
Run:     python -m binaries.train_prior --config=configs/cars64_prior.py --config.data.data_dir=/data/stanford_cars \
             --workdir=runs/cars64_prior
         (after python -m binaries.train_gan --config=configs/cars64.py --config.data.data_dir=/data/stanford_cars --workdir=runs/cars64)
         then python -m binaries.evaluate --model_dir=runs/cars64_prior/export --source=cars --data_dir=/data/stanford_cars \
             --num_images=10000 --fd_extractor=inception:<local copy of tfgan/eval/inception/1>
Smoke:   python -m binaries.train_prior --config=configs/cars64_prior.py:smoke --config.data.data_dir=<fixture> \
             --config.generator=<16-px RGB G> --config.discriminator=<its D> --workdir=/tmp/p
Expect:  not run here (no Stanford Cars offline). Paper, Table 1: see configs/cars64.py's header.
Differs from the paper: λ1, λ2 (not given in the paper) are the Fashion-MNIST validation sweep's;
Stanford Cars has no val split: hold out part of train before choosing anything on it.
"""

from configs import prior_defaults


def get_config(arg: str | None = None):
  return prior_defaults.table1_64px_prior(name="cars64_prior", source="cars", arg=arg)
