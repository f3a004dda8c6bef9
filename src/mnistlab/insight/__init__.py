"""Looking inside a CNN: feature maps, activation patterns, OIPs, and run-to-run filter matching.

The questions of the seed's CNN series (articles IV-XI), each answered by a function that
returns arrays and numbers, with the figures drawn separately by `mnistlab.insight.figures`:

- `feature_maps(model, images)`: what each conv/pool layer outputs for some images;
- `activation_patterns(model, ...)`: class x map mean activations, and accuracies of the dense
  head, a linear probe and nearest-pattern classification on those activations;
- `compute_oips(model, layer)`: input patterns maximising each map, by gradient ascent;
- `compare_models(model_a, model_b, images)`: do two trainings learn the same maps?

Importing this package does not import Keras; the functions do, through `mnistlab.cnn.backend`.
"""

from mnistlab.insight.compare import compare_models, match_maps
from mnistlab.insight.extract import feature_extractor, get_layer, load_cnn
from mnistlab.insight.feature_maps import feature_maps, first_layer_kernels
from mnistlab.insight.oip import OIPConfig, compute_oips
from mnistlab.insight.patterns import activation_patterns

__all__ = ["OIPConfig", "activation_patterns", "compare_models", "compute_oips", "feature_extractor",
           "feature_maps", "first_layer_kernels", "get_layer", "load_cnn", "match_maps"]
