"""MLPClassifier: the NumPy MLP behind scikit-learn's estimator API.

`__init__` only stores the options (the fields of `MLPConfig`); `fit` validates them and the
data, initialises the weights from `random_state`, and trains. Learned attributes end in `_`.
Works in `Pipeline` and `GridSearchCV`; passes `sklearn.utils.estimator_checks`.

Examples
--------
>>> import numpy as np
>>> from mnistlab import MLPClassifier
>>> rng = np.random.default_rng(0)
>>> X = rng.normal(size=(200, 4)); y = (X[:, 0] + X[:, 1] > 0).astype(int)
>>> clf = MLPClassifier(hidden_sizes=(8,), epochs=30, batch_size=20, decrease_const=0, random_state=0).fit(X, y)
>>> bool(clf.score(X, y) > 0.9)
True
"""

from __future__ import annotations

import os
from dataclasses import fields

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, column_or_1d

try:
    from sklearn.utils.validation import validate_data
except ImportError:  # scikit-learn < 1.6
    def validate_data(estimator, *args, **kwargs):
        return estimator._validate_data(*args, **kwargs)

from mnistlab.mlp.config import MLPConfig, validate_config
from mnistlab.mlp.history import History
from mnistlab.mlp.init import init_params
from mnistlab.mlp.io import read_model, save_model
from mnistlab.mlp.network import NetSpec, Params
from mnistlab.mlp.trainer import BatchCallback, EpochCallback, EvalData, Trainer

_DTYPE = np.float32


class MLPClassifier(ClassifierMixin, BaseEstimator):
    """A multilayer perceptron classifier trained by mini-batch gradient descent, in NumPy.

    Parameters are those of `mnistlab.mlp.config.MLPConfig` (see its docstring and
    docs/mlp.md): hidden_sizes, activation, output, loss, loss_reduction, solver,
    learning_rate, decrease_const, momentum, momentum_type, rho, beta_1, beta_2, epsilon, l2,
    l1, batch_size, epochs, shuffle, init, init_first, init_factor, init_intervals,
    leaky_slope, early_stopping, validation_fraction, patience, min_delta, eval_train_every,
    eval_test_every, random_state.

    Attributes
    ----------
    classes_ : (n_classes,) the labels seen by `fit`.
    n_features_in_ : number of input features.
    coefs_ : list of float32 weight matrices (fan_in, fan_out), one per layer.
    intercepts_ : list of float32 bias vectors (fan_out,).
    history_ : `History` of every epoch trained (arrays via `history_.as_arrays()`).
    loss_curve_ : (n_epochs,) batch-averaged cost per epoch.
    n_iter_ : epochs trained so far.
    """

    def __init__(self, hidden_sizes=(256, 128), activation="relu", output="softmax", loss="cross_entropy",
                 loss_reduction="mean", solver="adam", learning_rate=0.001, decrease_const=0.0, momentum=0.0,
                 momentum_type="classical", rho=0.9, beta_1=0.9, beta_2=0.999, epsilon=1e-7, l2=0.0, l1=0.0,
                 batch_size=128, epochs=20, shuffle=True, init="sqrt_nodes", init_first=None, init_factor=1.0,
                 init_intervals=None, leaky_slope=0.01, early_stopping=False, validation_fraction=0.1,
                 patience=5, min_delta=0.0, eval_train_every=0, eval_test_every=0, random_state=None):
        self.hidden_sizes = hidden_sizes
        self.activation = activation
        self.output = output
        self.loss = loss
        self.loss_reduction = loss_reduction
        self.solver = solver
        self.learning_rate = learning_rate
        self.decrease_const = decrease_const
        self.momentum = momentum
        self.momentum_type = momentum_type
        self.rho = rho
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.l2 = l2
        self.l1 = l1
        self.batch_size = batch_size
        self.epochs = epochs
        self.shuffle = shuffle
        self.init = init
        self.init_first = init_first
        self.init_factor = init_factor
        self.init_intervals = init_intervals
        self.leaky_slope = leaky_slope
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.patience = patience
        self.min_delta = min_delta
        self.eval_train_every = eval_train_every
        self.eval_test_every = eval_test_every
        self.random_state = random_state

    @classmethod
    def from_config(cls, cfg: MLPConfig) -> MLPClassifier:
        """An unfitted classifier with the options of `cfg`."""
        return cls(**cfg.to_dict())

    @property
    def config(self) -> MLPConfig:
        """The current options as an `MLPConfig` (not validated)."""
        params = self.get_params()
        hidden = params["hidden_sizes"]
        params["hidden_sizes"] = tuple(hidden) if isinstance(hidden, (list, tuple)) else hidden
        return MLPConfig(**{f.name: params[f.name] for f in fields(MLPConfig)})

    def _spec(self, cfg: MLPConfig) -> NetSpec:
        return NetSpec(activation=cfg.activation, output=cfg.output, loss=cfg.loss, slope=cfg.leaky_slope)

    def _validated_config(self) -> MLPConfig:
        cfg = self.config
        validate_config(cfg)
        if isinstance(cfg.hidden_sizes, (int, np.integer)):
            cfg.hidden_sizes = (int(cfg.hidden_sizes),)
        return cfg

    def _check_y(self, y) -> np.ndarray:
        y = column_or_1d(y, warn=True)
        check_classification_targets(y)
        return y

    def _class_index(self, y: np.ndarray, what: str = "y") -> np.ndarray:
        idx = np.searchsorted(self.classes_, y)
        idx = np.clip(idx, 0, len(self.classes_) - 1)
        unseen = self.classes_[idx] != y
        if np.any(unseen):
            raise ValueError(f"{what} contains label(s) {np.unique(y[unseen])[:10].tolist()} not seen at fit time "
                             f"(known classes: {self.classes_.tolist()[:20]}); refit with all classes")
        return idx

    def _start(self, cfg: MLPConfig, n_features: int, classes: np.ndarray) -> None:
        if len(classes) < 2:
            raise ValueError(f"y has only one class ({classes.tolist()}); a classifier needs samples of "
                             "at least two classes")
        self.classes_ = classes
        rng = np.random.default_rng(cfg.random_state)
        sizes = [n_features, *cfg.hidden_sizes, len(classes)]
        methods = [cfg.init_first or cfg.init] + [cfg.init] * (len(sizes) - 2)
        weights, biases = init_params(sizes, methods, rng, factor=cfg.init_factor,
                                      intervals=cfg.init_intervals, dtype=_DTYPE)
        self._trainer = Trainer(cfg, self._spec(cfg), Params(weights, biases), rng)
        self._sync()

    def _sync(self) -> None:
        trainer = self._trainer
        self.coefs_ = trainer.params.weights
        self.intercepts_ = trainer.params.biases
        self.history_ = trainer.history
        self.loss_curve_ = trainer.history.as_arrays()["loss"]
        self.n_iter_ = trainer.epochs_done

    def fit(self, X, y, eval_set=None, *, on_batch_end: BatchCallback | None = None,
            on_epoch_end: EpochCallback | None = None) -> MLPClassifier:
        """Train from scratch on X (n_samples, n_features) and labels y (n_samples,).

        eval_set : optional (X_test, y_test) scored every `eval_test_every` epochs.
        on_batch_end(batch, n_batches), on_epoch_end(row) : progress hooks; on_epoch_end returning True
        stops training after that epoch.
        """
        cfg = self._validated_config()
        X, y = validate_data(self, X, y, dtype=_DTYPE, order="C", y_numeric=False, multi_output=False)
        y = self._check_y(y)
        self._start(cfg, X.shape[1], np.unique(y))
        y_index = self._class_index(y)
        validation = None
        if cfg.early_stopping:
            X, y_index, validation = self._split_validation(cfg, X, y_index)
        test = self._eval_data(eval_set)
        try:
            self._trainer.fit(X, y_index, cfg.epochs, validation=validation, test=test,
                              on_batch_end=on_batch_end, on_epoch_end=on_epoch_end)
        finally:
            self._sync()
        return self

    def _split_validation(self, cfg: MLPConfig, X: np.ndarray, y_index: np.ndarray):
        n = X.shape[0]
        n_val = max(1, int(round(cfg.validation_fraction * n)))
        if n - n_val < 1:
            raise ValueError(f"early stopping needs at least 2 samples, got {n}; set early_stopping=False")
        order = self._trainer.rng.permutation(n)
        val, train = np.sort(order[:n_val]), np.sort(order[n_val:])
        return X[train], y_index[train], EvalData(X[val], y_index[val])

    def _eval_data(self, eval_set) -> EvalData | None:
        if eval_set is None:
            return None
        X_test, y_test = eval_set
        X_test = validate_data(self, X_test, dtype=_DTYPE, order="C", reset=False)
        return EvalData(X_test, self._class_index(self._check_y(y_test), "eval_set labels"))

    def partial_fit(self, X, y, classes=None) -> MLPClassifier:
        """One more epoch on X, y; `classes` (all labels) is required on the first call."""
        first = not hasattr(self, "_trainer")
        X, y = validate_data(self, X, y, dtype=_DTYPE, order="C", reset=first)
        y = self._check_y(y)
        if first:
            if classes is None:
                raise ValueError("classes must be given on the first call to partial_fit, e.g. classes=np.unique(y)")
            cfg = self._validated_config()
            self._start(cfg, X.shape[1], np.unique(self._check_y(classes)))
        elif classes is not None and not np.array_equal(np.unique(classes), self.classes_):
            raise ValueError(f"classes={list(classes)} differs from the first call's {self.classes_.tolist()}")
        try:
            self._trainer.fit(X, self._class_index(y), 1)
        finally:
            self._sync()
        return self

    def _outputs(self, X) -> np.ndarray:
        check_is_fitted(self, "coefs_")
        X = validate_data(self, X, dtype=_DTYPE, order="C", reset=False)
        return self._trainer.predictor.outputs(self._trainer.spec, self._trainer.params, X)

    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities (n_samples, n_classes), rows summing to 1 (sigmoid outputs normalised)."""
        out = self._outputs(X)
        if self._trainer.spec.output != "softmax":
            out /= np.maximum(out.sum(axis=1, keepdims=True), np.finfo(np.float64).tiny)
        return out

    def predict(self, X) -> np.ndarray:
        """The most probable class per sample, (n_samples,); computed in float64 like predict_proba."""
        check_is_fitted(self, "coefs_")
        X = validate_data(self, X, dtype=_DTYPE, order="C", reset=False)
        return self.classes_[self._trainer.predictor.predict_index(self._trainer.spec, self._trainer.params, X)]

    def save(self, path: str | os.PathLike, metadata: dict | None = None) -> None:
        """Write weights, config, classes, history and optional JSON `metadata` to an .npz file, atomically."""
        save_model(self, path, metadata)

    @classmethod
    def load(cls, path: str | os.PathLike) -> MLPClassifier:
        """Read a model written by `save` (no pickle involved); its metadata becomes `metadata_`."""
        saved = read_model(path)
        model = cls.from_config(saved.config)
        model._restore(saved.config, saved.classes, saved.n_features, saved.params, saved.history,
                       saved.epochs_done)
        model.metadata_ = saved.metadata
        return model

    def _restore(self, cfg: MLPConfig, classes: np.ndarray, n_features: int, params: Params,
                 history: History, epochs_done: int) -> None:
        """Install learned state read from a model file (used by `load`)."""
        self.classes_ = classes
        self.n_features_in_ = n_features
        self._trainer = Trainer(cfg, self._spec(cfg), params, np.random.default_rng(cfg.random_state))
        self._trainer.history = history
        self._trainer.epochs_done = epochs_done
        self._sync()
