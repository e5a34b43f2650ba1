"""Scan damage: ``ocr.generate.degrade`` for grey scans, and its colour equivalent."""
from __future__ import annotations

import random

import numpy as np
from PIL import Image, ImageFilter

from ocr.generate import degrade as degrade_grey


def degrade_colour(img: Image.Image, rng: random.Random, *, upside_down: bool = False) -> tuple[Image.Image, int]:
    """Like ``degrade_grey`` on an RGB page: resolution, skew, scale, tinted paper with uneven
    light, a scanner border, noise, blur. Returns the image and its dpi."""
    dpi = 200 if rng.random() < 0.2 else 300
    angle = rng.uniform(-3, 3)
    scale = rng.uniform(0.95, 1.05) * dpi / 300
    w, h = img.size
    img = img.resize((int(w * scale), int(h * scale)), Image.Resampling.LANCZOS)
    img = img.rotate(angle + (180 if upside_down else 0), resample=Image.Resampling.BICUBIC, expand=True, fillcolor=(255, 255, 255))
    arr = np.asarray(img).astype(np.float32)
    if rng.random() < 0.5:
        # Off-white paper (a little warm) lit unevenly: multiply, so coloured print keeps its hue.
        base = rng.uniform(0.88, 0.98)
        tint = np.array([1.0, rng.uniform(0.97, 1.0), rng.uniform(0.9, 1.0)], dtype=np.float32) * base
        light = (0.94 + 0.06 * np.linspace(0, 1, arr.shape[1], dtype=np.float32))[None, :, None]
        arr *= tint[None, None, :] * light
    if rng.random() < 0.3:
        side = rng.randint(10, 40)
        arr[:, :side] = rng.randint(30, 90)
    gen = np.random.default_rng(rng.randint(0, 2**31))
    sigma = rng.uniform(2, 9)
    # Mostly luminance noise, with a little per channel (sensor colour noise).
    arr += (sigma * gen.standard_normal(arr.shape[:2], dtype=np.float32))[:, :, None]
    arr += (sigma * 0.3) * gen.standard_normal(arr.shape, dtype=np.float32)
    out = Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8), "RGB")
    if rng.random() < 0.5:
        out = out.filter(ImageFilter.GaussianBlur(rng.uniform(0.4, 1.1)))
    return out, dpi


def scan(img: Image.Image, rng: random.Random, *, colour: bool, upside_down: bool) -> tuple[Image.Image, int]:
    if colour:
        return degrade_colour(img, rng, upside_down=upside_down)
    return degrade_grey(img.convert("L"), rng, upside_down=upside_down)
