"""Input images for the float model and the golden vectors: real photographs shipped inside the
scikit-image wheel (nothing is downloaded) and Edge-MoE's own frame when its folder is present.

Preprocessing of a photograph (fixed parameters, deterministic):

1. centre crop to the config's aspect ratio H:W (the largest such window, offsets floored);
2. resize to (H, W) with ``skimage.transform.resize(order=1, mode="reflect", anti_aliasing=True)``
   (anti-aliasing sigma = (scale - 1) / 2, skimage's default), in float64 on [0, 1] (uint8 / 255);
3. quantize to the pixel format (``cfg.fmt('pixel')``, ap_ufixed<8,0>: multiples of 1/256 in [0, 1))
   with its quantization mode after clipping to the format's range, so 1.0 becomes 255/256 rather
   than wrapping to 0. No mean/std normalisation: Edge-MoE feeds the pixels as they are.

Channel order is RGB, layout (C, H, W).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..config import Config
from .weights import default_weights_dir

SKIMAGE_PHOTOS = ("chelsea", "astronaut", "coffee", "rocket")
EDGE_MOE_FRAME = "edge_moe"
DEFAULT_IMAGE = "chelsea"


class ImageError(ValueError):
    """Unknown image name, missing frame file or a frame that does not fit the config."""


@dataclass
class InputImage:
    name: str
    pixels: np.ndarray  # (C, H, W) float64, exact multiples of the pixel format's lsb
    raw: np.ndarray  # (C, H, W) int64 raw pixel-format values
    source: str  # where it came from, for the golden metadata


def image_names() -> tuple:
    return SKIMAGE_PHOTOS + (EDGE_MOE_FRAME,)


def _crop_resize(rgb: np.ndarray, height: int, width: int) -> np.ndarray:
    from skimage.transform import resize

    h, w = rgb.shape[:2]
    if h * width > w * height:  # too tall: crop rows
        ch, cw = (w * height) // width, w
    else:
        ch, cw = h, (h * width) // height
    top, left = (h - ch) // 2, (w - cw) // 2
    crop = rgb[top:top + ch, left:left + cw].astype(np.float64) / 255.0
    out = resize(crop, (height, width), order=1, mode="reflect", anti_aliasing=True, preserve_range=True)
    return np.clip(out, 0.0, 1.0)


def quantize_pixels(cfg: Config, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    fmt = cfg.fmt("pixel")
    raw = fmt.from_float(np.clip(values, fmt.min, fmt.max))
    return fmt.to_float(raw), raw.astype(np.int64)


def skimage_photo(cfg: Config, name: str) -> InputImage:
    import skimage
    import skimage.data

    if name not in SKIMAGE_PHOTOS:
        raise ImageError(f"unknown image {name!r}; available: {', '.join(image_names())}")
    rgb = getattr(skimage.data, name)()
    if rgb.ndim == 2:
        rgb = np.stack([rgb] * 3, axis=-1)
    rgb = rgb[..., :3]
    m = cfg.model
    if m.channels != 3:
        raise ImageError(f"image {name!r} is RGB but config {cfg.name!r} has {m.channels} channels")
    chw = _crop_resize(rgb, m.height, m.width).transpose(2, 0, 1)
    pixels, raw = quantize_pixels(cfg, chw)
    src = (f"skimage.data.{name}() (scikit-image {skimage.__version__}), {rgb.shape[0]}x{rgb.shape[1]} RGB, "
           f"centre crop to {m.height}:{m.width}, resize order=1 anti_aliasing, quantized to {cfg.fmt('pixel').c_type}")
    return InputImage(name, pixels, raw, src)


def edge_moe_frame(cfg: Config, directory=None) -> InputImage:
    """Edge-MoE's input frame ``image.float32.bin`` (3, 128, 256), used as it is."""
    d = Path(directory) if directory is not None else default_weights_dir()
    path = d / "image.float32.bin"
    if not path.is_file():
        raise ImageError(f"Edge-MoE frame {path} not found; set EDGE_MOE_WEIGHTS or pass --weights")
    m = cfg.model
    shape = (m.channels, m.height, m.width)
    n = int(np.prod(shape))
    if path.stat().st_size != 4 * n:
        raise ImageError(f"{path}: {path.stat().st_size} bytes, but config {cfg.name!r} expects an image of "
                         f"shape {shape} = {4 * n} bytes (the frame is 3x128x256: use the edge_moe config)")
    values = np.fromfile(path, dtype="<f4").astype(np.float64).reshape(shape)
    pixels, raw = quantize_pixels(cfg, values)
    if not np.array_equal(pixels, values):
        bad = int((pixels != values).sum())
        raise ImageError(f"{path}: {bad} values are not representable in {cfg.fmt('pixel').c_type}")
    return InputImage(EDGE_MOE_FRAME, pixels, raw, f"Edge-MoE frame {path.resolve()}")


def load_image(cfg: Config, name: str = DEFAULT_IMAGE, weights_dir=None) -> InputImage:
    if name == EDGE_MOE_FRAME:
        return edge_moe_frame(cfg, weights_dir)
    if name not in SKIMAGE_PHOTOS:
        raise ImageError(f"unknown image {name!r}; available: {', '.join(image_names())}")
    return skimage_photo(cfg, name)
