"""Which frozen generator G (and D) the inpainter uses: the registry of public TF-Hub generators
and our own exports (`specs`), one adapter per family (`adapters`), resolving a name, handle or
directory (`registry`), offline stand-ins in the public modules' format (`standins`) and the
photo-realism policy that picks the D of Eq. 5 (`photo_realism`).

Callers use `from pgi_tf import generators` and the names below.
"""

from pgi_tf.generators.registry import (STANDIN_PREFIX, check_label, class_conditional, detect_family, fingerprint,
                                        load_module_discriminator, read_signatures, resolve_from_config,
                                        resolve_generator, standin_directory)
from pgi_tf.generators.specs import (BIGGAN_TRUNCATION_RANGE, DEFAULT_BIGGAN_TRUNCATION, FAMILIES, GENERATORS,
                                     GeneratorSpec)

__all__ = [
    "BIGGAN_TRUNCATION_RANGE", "DEFAULT_BIGGAN_TRUNCATION", "FAMILIES", "GENERATORS", "GeneratorSpec",
    "STANDIN_PREFIX", "check_label", "class_conditional", "detect_family", "fingerprint",
    "load_module_discriminator", "read_signatures", "resolve_from_config", "resolve_generator",
    "standin_directory",
]
