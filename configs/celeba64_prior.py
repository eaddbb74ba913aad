"""Stage 2 on CelebA at 64 px: Table 1, CelebA columns, the "Ours (M_z)" row (§4.1, §6.3).

Paper: detected faces centre-cropped to 64x64; CelebA's train / val / test partition; DCGAN frozen after stage 1 (configs/celeba64.py); P trained with Eq. 7 on
holes of 32x32 at random places (§6.3: "For training our model we use square masks of
32x32"); Table 1 evaluates 10% and 40% hole ratios on the test split.
Run:     python -m binaries.train_prior --config=configs/celeba64_prior.py --config.data.data_dir=/data/celeba \
             --workdir=runs/celeba64_prior
         (after python -m binaries.train_gan --config=configs/celeba64.py --config.data.data_dir=/data/celeba --workdir=runs/celeba64)
         then python -m binaries.evaluate --model_dir=runs/celeba64_prior/export --source=celeba --data_dir=/data/celeba \
             --num_images=10000 --fd_extractor=inception:<local copy of tfgan/eval/inception/1>
Smoke:   python -m binaries.train_prior --config=configs/celeba64_prior.py:smoke --config.data.data_dir=<fixture> \
             --config.generator=<16-px RGB G> --config.discriminator=<its D> --workdir=/tmp/p
Expect:  not run here (no CelebA offline). Paper, Table 1: see configs/celeba64.py's header.
Differs from the paper: λ1, λ2 (not given in the paper) are the Fashion-MNIST validation sweep's;
choices on CelebA's val partition (list_eval_partition.txt code 1).
"""

from configs import prior_defaults


def get_config(arg: str | None = None):
  return prior_defaults.table1_64px_prior(name="celeba64_prior", source="celeba", arg=arg)
