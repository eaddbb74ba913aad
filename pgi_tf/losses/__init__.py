"""Loss functions of the paper: the GAN game (Eq. 1), stage 2's prior losses (Eq. 3-7), Yeh et al.

Every function here is a pure tensor function: hyperparameters are keyword-only arguments, no
function reads a flag or a global, and everything is built from `tf.*` ops so it runs eagerly,
inside `tf.function` (including an unknown batch size), under `tf.distribute` and with XLA.

Losses return PER-EXAMPLE values of shape [N]. The caller reduces them: under a distribution
strategy, `tf.nn.compute_average_loss(per_example, global_batch_size=...)` divides by the global
batch size, which a plain `reduce_mean` inside a replica would get wrong.

Conventions: images are float32 NHWC in [-1, 1]; masks are float32
[N, H, W, 1] with M = 1 on the hole and 0 on known pixels; the masked image is I_d = (1 - M) * I.
Losses are computed in float32 whatever the input dtype (mixed-precision networks may hand us
float16 / bfloat16 logits or images).

Contents
  GAN game (Eq. 1, §3.1)    GAN_LOSSES, discriminator_loss, generator_loss, gradient_penalty
  Stage 2 (Eq. 3-7, §4.1)   contextual_weights (Eq. 3), contextual_loss (Eq. 4),
                            photo_realism_loss (Eq. 5), gradient_difference_loss (Eq. 6),
                            combined_prior_loss (Eq. 7), prior_losses (all of them at once)
  Yeh et al. (Eq. 2, §3.2)  yeh_importance_weights, yeh_contextual_loss, yeh_perceptual_loss
  Keypoints (Eq. 9, §4.2)   keypoint_refinement_loss
  Sequences (Eq. 10, §4.3)  grouped_prior_loss (+ latent_smoothness_loss, beyond the paper)
  Critic (§5)               r1_penalty (R1 of Mescheder et al. 2018)
  Beyond the paper          best_of_candidates (K candidates per image), latent_consistency_loss,
                            hole_l1_loss (the regression peer)

One module per group (gan, prior, yeh, keypoints, grouped_prior, candidates, regression); callers use
`from pgi_tf import losses` and the names below.
"""

from pgi_tf.losses.candidates import best_of_candidates, latent_consistency_loss
from pgi_tf.losses.gan import GAN_LOSSES, discriminator_loss, generator_loss, gradient_penalty, r1_penalty
from pgi_tf.losses.grouped_prior import grouped_prior_loss, latent_smoothness_loss
from pgi_tf.losses.keypoints import keypoint_refinement_loss
from pgi_tf.losses.prior import (LOSS_NORMALISATION, combined_prior_loss, contextual_loss,
                                 contextual_weights, gradient_difference_loss, photo_realism_loss, prior_losses)
from pgi_tf.losses.regression import hole_l1_loss
from pgi_tf.losses.yeh import yeh_contextual_loss, yeh_importance_weights, yeh_perceptual_loss

__all__ = [
    "GAN_LOSSES", "LOSS_NORMALISATION", "best_of_candidates", "latent_consistency_loss", "combined_prior_loss", "contextual_loss", "contextual_weights", "discriminator_loss",
    "generator_loss", "gradient_difference_loss", "hole_l1_loss", "gradient_penalty", "grouped_prior_loss", "latent_smoothness_loss",
    "keypoint_refinement_loss", "photo_realism_loss", "prior_losses", "r1_penalty", "yeh_contextual_loss",
    "yeh_importance_weights", "yeh_perceptual_loss",
]
