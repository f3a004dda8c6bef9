"""The Keras 3 convnet of the seed's CNN series: config, model builder, training, evaluation.

Importing this package does not import Keras; `backend.import_keras` does, after choosing the
backend, device and threads.
"""

from mnistlab.cnn.config import CNNConfig, LayerSpec

__all__ = ["CNNConfig", "LayerSpec"]
