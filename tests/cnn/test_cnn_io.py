"""Saving and loading .keras models: round trip, atomic writes, clear errors for non-models."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from mnistlab.cnn.evaluate import predict_proba
from mnistlab.cnn.io import load_model, save_model
from mnistlab.cnn.train import train
from mnistlab.errors import ModelFileError

pytest.importorskip("keras")
pytestmark = pytest.mark.cnn


def test_round_trip_keeps_predictions_and_layer_names(tmp_path, fashion_slice, small_config):
    x, y, x_test, _ = fashion_slice
    model = train(dataclasses.replace(small_config, epochs=1), x, y).model
    path = save_model(model, tmp_path / "model.keras")
    loaded = load_model(path)
    assert [layer.name for layer in loaded.layers] == [layer.name for layer in model.layers]
    np.testing.assert_allclose(predict_proba(loaded, x_test[:32]), predict_proba(model, x_test[:32]), atol=1e-6)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.keras"]


def test_interrupted_save_leaves_old_file_and_no_temp(tmp_path):
    class Interrupted:
        def save(self, filepath):
            with open(filepath, "wb") as fh:
                fh.write(b"PK half a zip")
            raise KeyboardInterrupt

    path = tmp_path / "model.keras"
    path.write_bytes(b"previous model")
    with pytest.raises(KeyboardInterrupt):
        save_model(Interrupted(), path)
    assert path.read_bytes() == b"previous model"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.keras"]


def test_non_models_raise_model_file_error(tmp_path):
    with pytest.raises(ModelFileError, match="does not exist"):
        load_model(tmp_path / "missing.keras")
    text = tmp_path / "notes.keras"
    text.write_text("not a model")
    with pytest.raises(ModelFileError, match="is not a Keras model file"):
        load_model(text)
    import zipfile

    archive = tmp_path / "other.keras"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("hello.txt", "hi")
    with pytest.raises(ModelFileError, match="could not be read as a Keras model"):
        load_model(archive)
    with pytest.raises(ModelFileError, match="must end in .keras"):
        save_model(object(), tmp_path / "model.h5")
