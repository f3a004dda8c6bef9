"""MLPClassifier: the NumPy MLP behind scikit-learn's estimator API.

`__init__` only stores the options (the fields of `MLPConfig`, declared in
`mnistlab.mlp.options`); `fit` validates them and the data, initialises the weights from
`random_state`, and trains. Learned attributes end in `_`. Works in `Pipeline` and
`GridSearchCV`; passes `sklearn.utils.estimator_checks`. docs/mlp.md maps every parameter,
attribute and method of scikit-learn's MLPClassifier to this one.

Examples
--------
>>> import numpy as np
>>> from mnistlab import MLPClassifier
>>> rng = np.random.default_rng(0)
>>> X = rng.normal(size=(200, 4)); y = (X[:, 0] + X[:, 1] > 0).astype(int)
>>> clf = MLPClassifier(hidden_sizes=(8,), learning_rate=0.05, random_state=0).fit(X, y)
>>> bool(clf.score(X, y) > 0.9)
True
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable
from dataclasses import fields

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted

from mnistlab.errors import ConfigError
from mnistlab.mlp.config import MLPConfig, check_onecycle_warmup, validate_config
from mnistlab.mlp.estimator_data import EstimatorData
from mnistlab.mlp.init import init_params, make_rng
from mnistlab.mlp.io import read_model, save_model
from mnistlab.mlp.lbfgs import fit_lbfgs
from mnistlab.mlp.network import Params
from mnistlab.mlp.options import SKLEARN_RENAMES, NamesScikitLearnSpellings, rename_message
from mnistlab.mlp.targets import Targets
from mnistlab.mlp.trainer import BatchCallback, EpochCallback, Trainer


class MLPClassifier(EstimatorData, ClassifierMixin, BaseEstimator, NamesScikitLearnSpellings):
    """A multilayer perceptron classifier trained by mini-batch gradient descent (or L-BFGS), in NumPy.

    Parameters are the options of `mnistlab.mlp.options.OPTIONS` (docs/mlp.md has the table).
    Names scikit-learn spells differently (max_iter, learning_rate_init, alpha,
    hidden_layer_sizes, nesterovs_momentum) raise a TypeError naming mnistlab's.

    Attributes
    ----------
    classes_ : (n_classes,) the labels seen by `fit` (multilabel: 0..n_labels - 1).
    n_features_in_ : number of input features.
    coefs_, intercepts_ : weight matrices (fan_in, fan_out) and bias vectors (fan_out,), float32
        by default (`dtype`).
    history_ : `History` of every epoch trained (arrays via `history_.as_arrays()`).
    loss_curve_ : (n_epochs,) training cost per epoch; loss_ : the last one.
    n_iter_ : epochs run by the last fit or partial_fit call (scikit-learn's meaning);
        len(history_) counts every epoch. t_ : training samples seen by the solver, all calls.
    best_loss_ : lowest training cost (None with early stopping).
    validation_scores_, best_validation_score_ : early stopping's accuracies (None without).
    n_layers_, n_outputs_, out_activation_ : as in scikit-learn.
    """

    def __init__(self, hidden_sizes=(256, 128), activation="relu", output="softmax", loss="cross_entropy",
                 loss_reduction="mean", label_smoothing=0.0, solver="adam", learning_rate=0.001, lr_schedule="decay",
                 decrease_const=0.0, power_t=0.5, warmup_epochs=0.0, momentum=0.0, momentum_type="classical", rho=0.9, beta_1=0.9, beta_2=0.999,
                 epsilon=1e-7, l2=0.0, l1=0.0, batch_size="auto", epochs=200, shuffle=True, tol=1e-4,
                 n_iter_no_change=10, max_fun=15000, init="glorot", init_first=None, init_factor=1.0,
                 init_intervals=None, leaky_slope=0.01, dropout=0.0, shift_pixels=0, flip=False, class_weight=None, early_stopping=False,
                 validation_fraction=0.1, eval_train_every=0, eval_test_every=0, dtype="float32", warm_start=False,
                 verbose=False, random_state=None):
        self.hidden_sizes = hidden_sizes
        self.activation = activation
        self.output = output
        self.loss = loss
        self.loss_reduction = loss_reduction
        self.label_smoothing = label_smoothing
        self.solver = solver
        self.learning_rate = learning_rate
        self.lr_schedule = lr_schedule
        self.decrease_const = decrease_const
        self.power_t = power_t
        self.warmup_epochs = warmup_epochs
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
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.max_fun = max_fun
        self.init = init
        self.init_first = init_first
        self.init_factor = init_factor
        self.init_intervals = init_intervals
        self.leaky_slope = leaky_slope
        self.dropout = dropout
        self.shift_pixels = shift_pixels
        self.flip = flip
        self.class_weight = class_weight
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.eval_train_every = eval_train_every
        self.eval_test_every = eval_test_every
        self.dtype = dtype
        self.warm_start = warm_start
        self.verbose = verbose
        self.random_state = random_state

    def set_params(self, **params) -> MLPClassifier:
        """scikit-learn's set_params; scikit-learn's own names raise a ValueError naming ours."""
        renamed = {k: v for k, v in params.items() if k in SKLEARN_RENAMES}
        if renamed:
            raise ValueError(rename_message(renamed))
        return super().set_params(**params)

    @classmethod
    def from_config(cls, cfg: MLPConfig) -> MLPClassifier:
        """An unfitted classifier with the options of `cfg`."""
        return cls(**{f.name: getattr(cfg, f.name) for f in fields(MLPConfig)})

    @property
    def config(self) -> MLPConfig:
        """The current options as an `MLPConfig` (not validated)."""
        params = self.get_params()
        hidden = params["hidden_sizes"]
        params["hidden_sizes"] = tuple(hidden) if isinstance(hidden, (list, tuple)) else hidden
        return MLPConfig(**{f.name: params[f.name] for f in fields(MLPConfig)})

    def _validated_config(self) -> MLPConfig:
        cfg = self.config
        validate_config(cfg)
        if isinstance(cfg.hidden_sizes, (int, np.integer)):
            cfg.hidden_sizes = (int(cfg.hidden_sizes),)
        return cfg

    def _start(self, cfg: MLPConfig, n_features: int, targets: Targets) -> None:
        """Fresh weights and a fresh trainer for `targets` on n_features inputs."""
        self._targets = targets
        self._dtype = np.dtype(cfg.dtype)
        self.classes_ = targets.classes
        rng = make_rng(cfg.random_state)
        sizes = [n_features, *cfg.hidden_sizes, targets.n_outputs]
        methods = [cfg.init_first or cfg.init] + [cfg.init] * (len(sizes) - 2)
        weights, biases = init_params(sizes, methods, rng, factor=cfg.init_factor,
                                      intervals=cfg.init_intervals, dtype=np.dtype(cfg.dtype))
        self._trainer = Trainer(cfg, targets.spec(cfg), Params(weights, biases), rng)
        self._sync()

    def _continue(self, cfg: MLPConfig, n_features: int, targets: Targets) -> None:
        """Keep the trainer (warm start); its options follow any set_params since."""
        trainer = self._trainer
        if targets.kind != self._targets.kind or not np.array_equal(targets.classes, self.classes_):
            raise ValueError(f"warm_start can only be used where `y` has the same classes as in the previous call "
                             f"to fit. Previously got {self.classes_}, `y` has {targets.classes}; "
                             "set warm_start=False to start over")
        if trainer.params.layer_sizes != [n_features, *cfg.hidden_sizes, targets.n_outputs]:
            raise ValueError("warm_start cannot change hidden_sizes or the number of features; "
                             "set warm_start=False to start over")
        if (cfg.dropout, cfg.batch_size) != (trainer.cfg.dropout, trainer.cfg.batch_size):
            trainer.workspace = trainer.dropout = None  # scratch buffers, rebuilt for the new sizes
        trainer.cfg = cfg
        trainer.stopping.tol, trainer.stopping.n_iter_no_change = cfg.tol, cfg.n_iter_no_change
        trainer.stopping.early_stopping = cfg.early_stopping

    def _sync(self, epochs_before: int = 0) -> None:
        """Publish the trainer's state as the learned attributes; n_iter_ counts epochs after `epochs_before`."""
        trainer, stopping = self._trainer, self._trainer.stopping
        self.coefs_ = trainer.params.weights
        self.intercepts_ = trainer.params.biases
        self.history_ = trainer.history
        self.loss_curve_ = trainer.history.as_arrays()["loss"]
        self.loss_ = float(self.loss_curve_[-1]) if len(self.loss_curve_) else None
        self.n_iter_ = trainer.epochs_done - epochs_before
        self.t_ = trainer.samples_seen
        self.n_layers_ = len(self.coefs_) + 1
        self.n_outputs_ = self._targets.n_outputs
        self.out_activation_ = trainer.spec.output
        early = trainer.cfg.early_stopping
        self.best_loss_ = None if early else stopping.best_loss
        self.validation_scores_ = list(stopping.validation_scores) if early else None
        self.best_validation_score_ = stopping.best_score if early else None

    def fit(self, X, y, sample_weight=None, eval_set=None, *, on_batch_end: BatchCallback | None = None,
            on_epoch_end: EpochCallback | list[EpochCallback] | None = None,
            on_start: Callable[[MLPClassifier], None] | None = None) -> MLPClassifier:
        """Train on X (n_samples, n_features), dense or sparse, and labels y (n_samples,) or a
        multilabel indicator (n_samples, n_labels); with warm_start, continue the previous fit.

        sample_weight : (n_samples,) weight of each sample's loss.
        eval_set : optional (X_test, y_test) scored every `eval_test_every` epochs.
        on_batch_end(batch, n_batches) : progress hook. on_epoch_end(row) : called after every
            epoch with its history row (a callable or a list); returning True stops training.
        on_start(self) : called once the weights exist, before the first batch (a run keeps epoch 0's weights).
        """
        cfg = self._validated_config()
        warm = cfg.warm_start and hasattr(self, "_trainer")
        if cfg.lr_schedule == "onecycle":  # its schedule spans the earlier fits' epochs too (Trainer.fit)
            check_onecycle_warmup(cfg.warmup_epochs, (self._trainer.epochs_done if warm else 0) + cfg.epochs)
        X, y = self._validate_xy(X, y, cfg, reset=not warm)
        targets = Targets.from_labels(y)
        if warm:
            self._continue(cfg, X.shape[1], targets)
        else:
            self._start(cfg, X.shape[1], targets)
        data = self._train_data(X, y, sample_weight, cfg)
        validation = None
        if cfg.early_stopping and cfg.solver != "lbfgs":  # L-BFGS-B ignores it, as in scikit-learn
            data, validation = self._split_validation(cfg, data)
        test = self._eval_data(eval_set)
        if on_start is not None:
            self._sync(self._trainer.epochs_done)
            on_start(self)
        hook, before = self._epoch_hook(on_epoch_end), self._trainer.epochs_done
        try:
            if cfg.solver == "lbfgs":
                outcome = fit_lbfgs(self._trainer, data, on_epoch_end=hook)
            else:
                outcome = self._trainer.fit(data, cfg.epochs, validation=validation, test=test,
                                            on_batch_end=on_batch_end, on_epoch_end=hook)
        finally:
            self._sync(before)
        if outcome == "budget" and self._trainer.stopping.checks_convergence:
            solver = "L-BFGS-B" if cfg.solver == "lbfgs" else "Stochastic Optimizer"
            warnings.warn(f"{solver}: Maximum iterations ({cfg.epochs}) reached and the optimization hasn't "
                          "converged yet; raise epochs, raise tol, or set n_iter_no_change=None for a fixed "
                          "epoch budget", ConvergenceWarning, stacklevel=2)
        return self

    @available_if(lambda self: self.solver != "lbfgs")  # as in scikit-learn: L-BFGS-B optimises to the end
    def partial_fit(self, X, y, sample_weight=None, classes=None) -> MLPClassifier:
        """One more epoch on X, y; `classes` (all labels) is required on the first call (not with lbfgs).

        A per-batch learning-rate schedule runs over `epochs` calls (then stays at its end).
        """
        cfg = self._validated_config()
        if cfg.early_stopping:
            raise ValueError("partial_fit does not support early_stopping=True; set early_stopping=False")
        if cfg.class_weight == "balanced":
            raise ConfigError("class_weight='balanced' needs the whole y at once, which partial_fit does not "
                              "see; give a dict {label: weight} instead")
        first = not hasattr(self, "_trainer")
        X, y = self._validate_xy(X, y, cfg, reset=first)
        if first:
            if classes is None and y.ndim == 1:
                raise ValueError("classes must be given on the first call to partial_fit, e.g. classes=np.unique(y)")
            self._start(cfg, X.shape[1], Targets.from_labels(y, classes))
        elif classes is not None and not np.array_equal(np.unique(classes), self.classes_):
            raise ValueError(f"classes={list(classes)} differs from the first call's {self.classes_.tolist()}")
        else:
            self._continue(cfg, X.shape[1], self._targets)
        before = self._trainer.epochs_done
        # One epoch per call, but a per-batch schedule (onecycle, cosine, warm-up) spans the `epochs`
        # budget, as Keras's and PyTorch's schedules span their planned steps: not each call alone.
        try:
            self._trainer.fit(self._train_data(X, y, sample_weight, cfg), 1, on_epoch_end=self._epoch_hook(None),
                              schedule_epochs=cfg.epochs)
        finally:
            self._sync(before)
        return self

    def _outputs(self, X) -> np.ndarray:
        check_is_fitted(self, "coefs_")  # before anything reads the fitted state
        X = self._validate_x(X)
        return self._trainer.predictor.outputs(self._trainer.spec, self._trainer.params, X)

    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities (n_samples, n_classes), rows summing to 1 (multilabel: each label's own)."""
        outputs = self._outputs(X)
        return self._targets.proba(outputs)

    def layer_activations(self, X) -> list[np.ndarray]:
        """Each layer's activations: [hidden_1 (n, units), ..., predict_proba (n, n_classes)]."""
        check_is_fitted(self, "coefs_")
        *hidden, outputs = self._trainer.predictor.layers(self._trainer.spec, self._trainer.params, self._validate_x(X))
        return [*hidden, self._targets.proba(outputs)]

    def predict_log_proba(self, X) -> np.ndarray:
        """The logarithm of `predict_proba` (-inf where a probability is 0)."""
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X))

    def predict(self, X) -> np.ndarray:
        """The most probable class per sample (n_samples,), or the 0/1 indicator for multilabel."""
        if self._targets_kind() == "multiclass":
            check_is_fitted(self, "coefs_")
            X = self._validate_x(X)
            return self.classes_[self._trainer.predictor.predict_index(self._trainer.spec, self._trainer.params, X)]
        return self._targets.decode(self._outputs(X))

    def _targets_kind(self) -> str:
        check_is_fitted(self, "coefs_")
        return self._targets.kind

    def state_dict(self) -> dict:
        """The whole training state (labels, weights, optimizer, RNG, history, stopping counters) as
        plain arrays and scalars; `load_state_dict` then `fit` with warm_start continues bit for bit."""
        check_is_fitted(self, "coefs_")
        return {"targets_kind": self._targets.kind, "classes": np.array(self.classes_, copy=True),
                "n_features_in": int(self.n_features_in_), "trainer": self._trainer.state_dict()}

    def load_state_dict(self, state: dict) -> MLPClassifier:
        """Install a `state_dict()` taken from a classifier with the same options; returns self."""
        cfg = self._validated_config()
        self.n_features_in_ = int(state["n_features_in"])
        self._start(cfg, self.n_features_in_, Targets(str(state["targets_kind"]), np.asarray(state["classes"])))
        self._trainer.load_state_dict(state["trainer"])
        self._sync()
        return self

    def restore_best_weights(self) -> MLPClassifier:
        """With early stopping, put back the weights of the best validation score, as `fit` does at its end.

        For a state loaded after its last epoch (a run killed before it was saved); returns self.
        """
        check_is_fitted(self, "coefs_")
        self._trainer.restore_best()
        return self

    def save(self, path: str | os.PathLike, metadata: dict | None = None) -> None:
        """Write weights, config, classes, history and optional JSON `metadata` to an .npz file, atomically."""
        save_model(self, path, metadata)

    @classmethod
    def load(cls, path: str | os.PathLike) -> MLPClassifier:
        """Read a model written by `save` (no pickle involved); its metadata becomes `metadata_`."""
        saved = read_model(path)
        model = cls.from_config(saved.config)
        model._restore(saved.config, saved.classes, saved.n_features, saved.params, saved.history,
                       saved.epochs_done, saved.targets_kind)
        model.metadata_ = saved.metadata
        return model

    def _restore(self, cfg: MLPConfig, classes: np.ndarray, n_features: int, params: Params,
                 history, epochs_done: int, kind: str | None = None) -> None:
        """Install learned state read from a model file (used by `load`); files older than
        binary logistic units hold two softmax units for two classes, hence the kind from the shape."""
        kind = kind or ("binary" if params.weights[-1].shape[1] == 1 else "multiclass")
        self._dtype = params.weights[0].dtype
        self._targets = Targets(kind, classes)
        self.classes_ = classes
        self.n_features_in_ = n_features
        self._trainer = Trainer(cfg, self._targets.spec(cfg), params, make_rng(cfg.random_state))
        self._trainer.history = history
        self._trainer.epochs_done = epochs_done
        self._sync()

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.classifier_tags.multi_label = True
        return tags
