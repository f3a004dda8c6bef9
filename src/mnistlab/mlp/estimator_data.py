"""What MLPClassifier's inputs become: validated arrays, TrainData with weights, the validation
split, and the epoch callbacks (the user's, and the `verbose` printer).

A mixin of `MLPClassifier` (it reads the estimator's fitted `_targets` and `_trainer`), kept
apart so the estimator module holds the API and this one the data handling.
"""

from __future__ import annotations

import math

import numpy as np
import scipy.sparse
from sklearn.model_selection import train_test_split
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import _check_sample_weight, column_or_1d

try:
    from sklearn.utils.validation import validate_data
except ImportError:  # scikit-learn < 1.6
    def validate_data(estimator, *args, **kwargs):
        return estimator._validate_data(*args, **kwargs)

from mnistlab.errors import ConfigError
from mnistlab.mlp.config import MLPConfig
from mnistlab.mlp.targets import row_weights
from mnistlab.mlp.trainer import EpochCallback, TrainData


def print_epoch(row: dict) -> None:
    """The `verbose=True` callback: scikit-learn's line per epoch, on stdout (asked for by the user)."""
    print(f"Iteration {int(row['epoch'])}, loss = {row['loss']:.8f}")  # noqa: T201


def _as_csr(X):
    # Rows are gathered per batch: CSR slices rows cheaply, CSC does not.
    return X.tocsr() if scipy.sparse.issparse(X) and X.format != "csr" else X


def check_shift(X, cfg: MLPConfig) -> None:
    """Raise ConfigError when `shift_pixels` or `flip` cannot move X's rows: they must be dense square images."""
    for option, does, off in (("shift_pixels", "moves", "shift_pixels=0"), ("flip", "mirrors", "flip=False")):
        if not getattr(cfg, option):
            continue
        if cfg.solver == "lbfgs":
            raise ConfigError(f"{option} {does} the images of each mini-batch; lbfgs trains on the whole set at "
                              f"once: set {off} or choose solver 'adam' or 'sgd'")
        if scipy.sparse.issparse(X):
            raise ConfigError(f"{option} {does} dense images; X is sparse: pass X.toarray() or set {off}")
        if math.isqrt(X.shape[1]) ** 2 != X.shape[1]:
            raise ConfigError(f"{option} {does} square images; X has {X.shape[1]} features, which is not a square "
                              f"number of pixels (MNIST: 784 = 28 x 28): set {off}")
    side = math.isqrt(X.shape[1])
    if cfg.shift_pixels and cfg.shift_pixels >= side:
        raise ConfigError(f"shift_pixels={cfg.shift_pixels} would move {side} x {side} images off the canvas; "
                          f"keep it below {side} (1 or 2 suit MNIST)")


class EstimatorData:
    """Input validation and TrainData building for MLPClassifier."""

    def _validate_xy(self, X, y, cfg: MLPConfig, *, reset: bool):
        dtype = np.dtype(cfg.dtype) if reset else self._dtype
        X, y = validate_data(self, X, y, accept_sparse=["csr", "csc"], dtype=dtype, order="C",
                             multi_output=True, reset=reset)
        if reset:
            self._dtype = dtype
        y = np.asarray(y)
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        check_classification_targets(y)
        return _as_csr(X), y

    def _validate_x(self, X):
        return _as_csr(validate_data(self, X, accept_sparse=["csr", "csc"], dtype=self._dtype, order="C",
                                     reset=False))

    def _train_data(self, X, y, sample_weight, cfg: MLPConfig) -> TrainData:
        check_shift(X, cfg)
        Y, y_index = self._targets.encode(y, self._dtype)
        if sample_weight is not None:
            sample_weight = _check_sample_weight(sample_weight, X, dtype=np.float64)
        return TrainData(X, Y, y_index, row_weights(self._targets, y_index, cfg.class_weight, sample_weight,
                                                    self._dtype))

    def _split_validation(self, cfg: MLPConfig, data: TrainData) -> tuple[TrainData, TrainData]:
        """A stratified train/validation split (plain for multilabel), the same on every warm-start fit."""
        trainer = self._trainer
        if trainer.split_seed is None:
            trainer.split_seed = int(trainer.rng.integers(np.iinfo(np.int32).max))
        stratify = data.y_index
        if stratify is not None:
            counts = np.bincount(stratify, minlength=len(self.classes_))
            if counts.min() < 2:
                rare = np.asarray(self.classes_[counts.argmin()]).tolist()
                raise ValueError(f"early stopping's stratified split needs at least 2 samples of every class; "
                                 f"class {rare!r} has {counts.min()}; add samples or set early_stopping=False")
        try:
            train, val = train_test_split(np.arange(data.n), test_size=cfg.validation_fraction,
                                          random_state=trainer.split_seed, stratify=stratify)
        except ValueError as exc:
            raise ValueError(f"cannot split {data.n} samples for early stopping ({exc}); "
                             "raise validation_fraction, add samples, or set early_stopping=False") from None
        if len(val) < 2:
            raise ValueError(f"the validation set has {len(val)} sample(s); raise validation_fraction "
                             f"(now {cfg.validation_fraction}) or add samples")
        return data.take(np.sort(train)), data.take(np.sort(val))

    def _eval_data(self, eval_set) -> TrainData | None:
        if eval_set is None:
            return None
        X_test, y_test = eval_set
        X_test = self._validate_x(X_test)
        y_test = np.asarray(y_test)
        if y_test.ndim == 1:
            y_test = column_or_1d(y_test)
        Y, y_index = self._targets.encode(y_test, self._dtype, "eval_set labels")
        return TrainData(X_test, Y, y_index)

    def _epoch_hook(self, on_epoch_end) -> EpochCallback | None:
        hooks = [] if on_epoch_end is None else list(on_epoch_end) if isinstance(on_epoch_end, (list, tuple)) \
            else [on_epoch_end]
        if self.verbose:
            hooks.insert(0, print_epoch)
        if not hooks:
            return None

        def every_hook(row: dict) -> bool:
            stops = [bool(hook(dict(row))) for hook in hooks]  # every hook runs, any can stop
            return any(stops)

        return every_hook
