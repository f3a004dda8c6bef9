"""FLOP counts of a dense net against counts done by hand."""

import pytest

from mnistlab.bench.flops import dense_train_flops
from mnistlab.errors import ConfigError


def test_seed_net_gemm_flops_match_hand_count():
    # forward: 2*(784*70 + 70*30 + 30*10) = 114560; weight grads the same;
    # deltas into the two hidden layers: 2*(70*30 + 30*10) = 4800 (none into the input)
    flops = dense_train_flops((784, 70, 30, 10))
    assert flops.forward_gemm == 114_560
    assert flops.backward_gemm == 114_560 + 4_800
    assert flops.gemm == 233_920


def test_tiny_net_elementwise_and_update_match_hand_count():
    # 3-2-1 sigmoid: bias adds 2+1, sigmoid 2*4, softmax 4*1, output delta 1,
    # hidden delta 2*(2+1), bias grads 2+1  -> 25 per sample
    flops = dense_train_flops((3, 2, 1))
    assert flops.gemm == 2 * (3 * 2 + 2 * 1) * 2 + 2 * (2 * 1)
    assert flops.elementwise == 25
    # 11 parameters, 4 FLOPs each per update, spread over a batch of 4
    assert dense_train_flops((3, 2, 1), batch_size=4).elementwise == 25 + 11
    assert flops.total == flops.gemm + 25


@pytest.mark.parametrize("sizes", [(784,), (784, 0, 10), ()])
def test_bad_layer_sizes_are_rejected(sizes):
    with pytest.raises(ConfigError, match="layer sizes"):
        dense_train_flops(sizes)


def test_unknown_activation_is_rejected():
    with pytest.raises(ConfigError, match="activation"):
        dense_train_flops((4, 3, 2), activation="swish")
