"""Stacks of small images (digits, weights, kernels, feature maps) as compact JSON for the page.

An image stack travels as one base64 string of uint8 pixels plus its shape and value range; the
page decodes it into canvases. Unsigned stacks (pixels, ReLU maps) map 0..max to 0..255; signed
stacks (weights, kernels) map -m..m to 0..255 with 0 at 128, which the page draws blue-white-red.
"""

from __future__ import annotations

import base64
from typing import Any

import numpy as np


def encode_stack(images: np.ndarray, *, signed: bool = False, scale: float | None = None) -> dict[str, Any]:
    """images (n, h, w) -> {"n", "h", "w", "signed", "scale", "data"}; `scale` overrides the value range.

    Pixels are (v / scale) * 255 when unsigned, 128 + (v / scale) * 127 when signed, clipped to uint8.
    """
    values = np.asarray(images, dtype=np.float32)
    if values.ndim == 2:
        values = values[None]
    n, h, w = values.shape
    if scale is None:
        scale = float(np.abs(values).max()) if values.size else 0.0
    scale = scale if scale > 0 else 1.0
    pixels = 128 + values / scale * 127 if signed else values / scale * 255
    data = np.clip(np.rint(pixels), 0, 255).astype(np.uint8)
    return {"n": int(n), "h": int(h), "w": int(w), "signed": signed, "scale": round(float(scale), 6),
            "data": base64.b64encode(data.tobytes()).decode("ascii")}


def encode_maps(maps: np.ndarray) -> dict[str, Any]:
    """One image's feature maps (h, w, c) -> a stack of c maps, scaled by the layer's largest activation."""
    return encode_stack(np.transpose(np.maximum(maps, 0), (2, 0, 1)))


def encode_pixels(images: np.ndarray) -> dict[str, Any]:
    """uint8 digits (n, 28, 28) -> a stack on the fixed 0..255 scale."""
    return encode_stack(images, scale=255.0)
