"""Layer lookup, CNN checks and model loading: clear errors that list what is valid."""

from __future__ import annotations

import numpy as np
import pytest

from mnistlab.errors import ConfigError, ModelFileError

pytestmark = pytest.mark.cnn
keras = pytest.importorskip("keras")

from mnistlab.insight.extract import (  # noqa: E402
    check_cnn, check_map_index, get_layer, last_conv_layer, layers_of_kind, load_cnn, predict_layers)


def _dense_only():
    inputs = keras.Input((28, 28, 1))
    x = keras.layers.Flatten(name="flatten")(inputs)
    return keras.Model(inputs, keras.layers.Dense(10, name="output")(x))


def test_get_layer_by_name_index_and_negative_index(tiny_model):
    assert get_layer(tiny_model, "conv2").name == "conv2"
    assert get_layer(tiny_model, 1).name == tiny_model.layers[1].name
    assert get_layer(tiny_model, "-1").name == "output"
    assert last_conv_layer(tiny_model).name == "conv3"
    assert [layer.name for layer in layers_of_kind(tiny_model)] == ["conv1", "pool1", "conv2", "pool2", "conv3"]


@pytest.mark.parametrize("ref", ["conv9", 42, "-20"])
def test_unknown_layer_error_lists_valid_layers(tiny_model, ref):
    with pytest.raises(ConfigError) as info:
        get_layer(tiny_model, ref)
    message = str(info.value)
    assert "valid layers" in message and "conv1" in message and "output" in message and "\n" not in message


def test_map_index_out_of_range(tiny_model):
    conv3 = get_layer(tiny_model, "conv3")
    assert check_map_index(conv3, 15) == 15
    with pytest.raises(ConfigError, match=r"map index 16 is out of range .*0\.\.15"):
        check_map_index(conv3, 16)
    with pytest.raises(ConfigError, match="out of range"):
        check_map_index(conv3, -1)


def test_a_model_without_conv_layers_is_not_a_cnn():
    with pytest.raises(ConfigError, match="isn't a CNN"):
        check_cnn(_dense_only())


def test_load_cnn_errors(tmp_path, tiny_model_file):
    with pytest.raises(ModelFileError, match="does not exist"):
        load_cnn(tmp_path / "missing.keras")
    npz = tmp_path / "model.npz"
    np.savez(npz, w=np.zeros(3))
    with pytest.raises(ModelFileError, match="MLP model"):
        load_cnn(npz)
    junk = tmp_path / "junk.keras"
    junk.write_text("not a model")
    with pytest.raises(ModelFileError):
        load_cnn(junk)
    dense = tmp_path / "dense.keras"
    _dense_only().save(dense)
    with pytest.raises(ModelFileError, match="isn't a CNN"):
        load_cnn(dense)
    assert load_cnn(tiny_model_file.parent).name == load_cnn(tiny_model_file).name  # run dir or file


def test_predict_layers_matches_the_full_model(tiny_model, mnist_slices):
    images = mnist_slices[2][:20]
    (scores,) = predict_layers(tiny_model, ["output"], images, batch_size=7)
    expected = keras.ops.convert_to_numpy(tiny_model(images[..., None].astype("float32") / 255.0))
    np.testing.assert_allclose(scores, expected, rtol=1e-5, atol=1e-6)
