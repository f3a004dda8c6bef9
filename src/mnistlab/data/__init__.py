"""MNIST and Fashion-MNIST: verified, cached and loaded as uint8 arrays.

>>> from mnistlab.data import load
>>> train = load("fashion-mnist", "train", validation_size=5000)
>>> train.images.shape, train.class_names[0]
((55000, 28, 28), 'T-shirt/top')
"""

from __future__ import annotations

from mnistlab.data.cache import default_cache_dir
from mnistlab.data.catalog import DATASETS
from mnistlab.data.dataset import Dataset, load
from mnistlab.data.fetch import cache_report, fetch

__all__ = ["DATASETS", "Dataset", "cache_report", "default_cache_dir", "fetch", "load"]
