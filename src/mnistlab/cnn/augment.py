"""Augmented batches for Keras: the CNN's cheap augmentation (the image operations are `mnistlab.data.augment`)."""

from __future__ import annotations

from typing import Any

import numpy as np

from mnistlab.data.augment import flip_images, shift_images


def ShiftedBatches(keras: Any, images: np.ndarray, labels: np.ndarray, batch_size: int, max_shift: int,  # noqa: N802
                   seed: int, *, flip: bool = False) -> Any:
    """A `keras.utils.PyDataset` of shuffled batches, each image shifted (and, with `flip`, mirrored at random)
    anew every epoch (a factory: keras is lazy)."""

    class Shifted(keras.utils.PyDataset):
        def __init__(self) -> None:
            super().__init__()
            self.rng = np.random.default_rng(seed)
            self.order = self.rng.permutation(len(images))

        def __len__(self) -> int:
            return -(-len(images) // batch_size)

        def __getitem__(self, index: int) -> tuple[np.ndarray, np.ndarray]:
            rows = self.order[index * batch_size:(index + 1) * batch_size]
            batch = shift_images(images[rows], max_shift, self.rng)  # (batch, 28, 28, 1)
            return (flip_images(batch, self.rng) if flip else batch), labels[rows]

        def on_epoch_end(self) -> None:
            self.order = self.rng.permutation(len(images))

    return Shifted()
