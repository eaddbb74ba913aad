"""§6.3.3: the masked-image class predictor for BigGAN inpainting on ImageNet at 256 px.

Paper: "We fine tune a ResNet-101 pre-trained on ImageNet on masked images. We achieve 75.3%
top-1 accuracy (starting from 55%) on masked ImageNet validation set compared to 77% on
unmasked version." Used by `--label=auto` to give the class-conditional BigGAN its class.
Run:     python -m binaries.train_class_predictor --config=configs/class_predictor_imagenet256.py \
             --config.data.data_dir=/data/imagenet --workdir=runs/class_predictor_imagenet256
Smoke:   python -m binaries.train_class_predictor --config=configs/class_predictor_imagenet256.py:smoke \
             --workdir=/tmp/c   (the tiny CNN on scikit-image's photographs, 16 px: the resolution
             of the table2_imagenet256_biggan smoke model, so the two work together)
Needs:   ILSVRC2012 (pgi_tf.data.datasets, source imagenet) and keras-applications'
         resnet101_weights_tf_dim_ordering_tf_kernels.h5 (downloaded, or its path in
         --config.model.weights). Neither is available offline here.
Expect:  the paper's 75.3% masked / 77% unmasked top-1 (55% masked before fine-tuning); not
         reproduced here. The run reports top-1 on one held-out val batch; the whole val set
         (or the paper's 10,000-image balanced subset, pgi_tf.data.imagenet.balanced_subset) goes through
         pgi_tf.train.class_predictor.top1_accuracy on the export.
Differs from the paper: the paper trains with "random rectangular holes with smaller side
ranging between 96-128 pixels" placed centrally on ImageNet and evaluates 96x96 and 128x128
central holes (Table 2); here the holes are central squares of side 96, 104, 112, 120 or 128
(uniform; pgi_tf.data.masks has no centred random rectangle). The ResNet sees the masked
256 px image resized to 224 (the input its ImageNet top was trained at) instead of a 224
crop, so no part of the known context is cut away. Optimiser (Adam 1e-4, cosine), steps
(60,000 at batch 64, three epochs) and frozen BatchNorm statistics are not given in the
paper.
"""

from configs import class_predictor_defaults


def get_config(arg: str | None = None):
  config = class_predictor_defaults.class_predictor_config()
  config.name = "class_predictor_imagenet256"
  config.data.source = "imagenet"
  config.data.resolution = 256
  config.data.preflight = False  # 1.28M headers take minutes; grey/CMYK/PNG-named-JPEG files decode fine
  config.masks.kind = "central"
  config.masks.central_sizes = (96, 104, 112, 120, 128)
  config.model.architecture = "resnet101"
  config.model.weights = "imagenet"
  config.model.num_classes = 1000
  if arg == "smoke":
    config = class_predictor_defaults.make_smoke(config)
    config.data.source = "skimage"  # 9 photographs, labels 0..8 (offline)
    config.data.resolution = 16     # = the table2_imagenet256_biggan smoke model's
    config.masks.central_sizes = (6, 8)  # 96 and 128 px at 256, scaled to 16 px
  return config
