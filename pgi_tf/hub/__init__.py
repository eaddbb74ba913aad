"""The only code that reads or writes SavedModels and hub modules.

One module per exported kind, on the shared pieces of `modules` (metadata, the frozen
`HubModuleLayer`, weight fingerprints, atomic saving):

  gan               stage 1's G and D (§3.1)
  prior_predictor   stage 2's P (§4.1)
  keypoint_refiner  §4.2's f
  class_predictor   §6.3.3's masked-image classifier
  sequence_prior    §4.3's grouped (LSTM) prior
  regression_inpainter  the regression peer (issue 13, beyond the paper)

The end-to-end inpainter (P -> G -> Eq. 8 in one SavedModel) is an inference front-end:
`pgi_tf.inference.export`. Callers use `from pgi_tf import hub` and the names below.
"""

from pgi_tf.hub.class_predictor import ClassPredictor, export_class_predictor, load_class_predictor
from pgi_tf.hub.gan import export_discriminator, export_generator, gan_metadata, load_discriminator, load_generator
from pgi_tf.hub.keypoint_refiner import LoadedKeypointRefiner, export_keypoint_refiner, load_keypoint_refiner
from pgi_tf.hub.modules import (FORMAT_VERSION, METADATA_FILENAME, HubModuleLayer, Untracked, check_trained_for,
                                is_remote_handle, load_module,
                                module_fingerprint, read_metadata, read_weights_into, save_module)
from pgi_tf.hub.prior_predictor import (export_prior_predictor, load_prior_predictor, prior_predictor_metadata,
                                        read_prior_predictor_weights)
from pgi_tf.hub.regression_inpainter import (RegressionInpainter, export_regression_inpainter,
                                             load_regression_inpainter)
from pgi_tf.hub.sequence_prior import export_sequence_prior, load_sequence_prior, sequence_prior_metadata

__all__ = [
    "ClassPredictor", "FORMAT_VERSION", "RegressionInpainter", "check_trained_for", "export_regression_inpainter",
    "load_regression_inpainter", "HubModuleLayer", "LoadedKeypointRefiner", "METADATA_FILENAME", "Untracked",
    "export_class_predictor", "export_discriminator", "export_generator", "export_keypoint_refiner",
    "export_prior_predictor", "export_sequence_prior", "gan_metadata", "is_remote_handle", "load_class_predictor",
    "load_discriminator", "load_generator", "load_keypoint_refiner", "load_module", "load_prior_predictor",
    "load_sequence_prior", "module_fingerprint", "prior_predictor_metadata", "read_metadata",
    "read_prior_predictor_weights", "read_weights_into", "save_module", "sequence_prior_metadata",
]
