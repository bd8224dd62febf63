"""Training augmentation that imitates what users bring, on whole batches, and synthetic
outliers for outlier exposure.

Each policy takes a batch of training images (uint8, N x 28 x 28) and returns floats in [0, 1],
each image changed by a random subset of steps, each step with its own probability, so that a
share of every batch stays as the data set has it:

``real-inputs`` for digits (MNIST):
  ones with a flag (as many people write them); slant, rotation, scale and elastic
  distortion (people's handwriting and the canvas); the digit redrawn along its centre line
  with an even, round pen (the canvas);
  thinner or bolder strokes (pens from thin to thick; a small digit drawn with a thick pen
  arrives bold once fitted to 20 pixels); low resolution and blur followed by the binarising
  that preprocessing applies (enlarged, blurry scans reach the model as blobs with sharp edges).
``real-inputs`` for garments (Fashion-MNIST):
  horizontal flips; exposure (gain and gamma) and the backdrop floor that preprocessing
  subtracts; the softness of a small photo enlarged (low resolution, blur).

All randomness comes from the generator passed in, so a seeded run is repeatable.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from .preprocess import INK_LEVEL, INK_RAMP

POLICIES = ("none", "real-inputs")


def _uniform(n: int, low: float, high: float, gen: torch.Generator) -> torch.Tensor:
    return low + (high - low) * torch.rand(n, generator=gen)


def _chance(n: int, p: float, gen: torch.Generator) -> torch.Tensor:
    return torch.rand(n, generator=gen) < p


def geometric(x: torch.Tensor, gen: torch.Generator, *, p: float = 0.6, rotate: float = 10.0,
              shear: float = 0.3, scale: float = 0.1, shift: float = 1.5,
              p_elastic: float = 0.5, elastic: float = 1.2) -> torch.Tensor:
    """Random affine (degrees, slant, relative scale, pixels) and, for a share of those images,
    elastic distortion (pixels of displacement, smooth over about a quarter of the image) of a
    N x 1 x 28 x 28 float batch."""
    n, _, h, w = x.shape
    pick = torch.nonzero(_chance(n, p, gen)).flatten()
    m = len(pick)
    if m == 0:
        return x
    angle = _uniform(m, -rotate, rotate, gen) * (math.pi / 180)
    slant = _uniform(m, -shear, shear, gen)
    sx, sy = 1 + _uniform(m, -scale, scale, gen), 1 + _uniform(m, -scale, scale, gen)
    tx, ty = _uniform(m, -shift, shift, gen) * (2.0 / w), _uniform(m, -shift, shift, gen) * (2.0 / h)
    cos, sin = torch.cos(angle), torch.sin(angle)
    # The grid maps output to input coordinates: (rotate . slant . scale) read backwards.
    a11, a12 = cos / sx, (sin + slant * cos) / sx
    a21, a22 = -sin / sy, (cos - slant * sin) / sy
    theta = torch.stack([torch.stack([a11, a12, tx], 1), torch.stack([a21, a22, ty], 1)], 1)
    grid = F.affine_grid(theta, (m, 1, h, w), align_corners=False)
    bend = _chance(m, p_elastic, gen)
    coarse = torch.randn(m, 2, 4, 4, generator=gen) * bend[:, None, None, None]
    field = F.interpolate(coarse, size=(h, w), mode="bilinear", align_corners=False)
    grid = grid + field.permute(0, 2, 3, 1) * (elastic * 2.0 / w)
    index = pick.to(x.device)
    out = x.clone()
    out[index] = F.grid_sample(x[index], grid.to(x.device), mode="bilinear", padding_mode="zeros", align_corners=False)
    return out


def stroke_width(x: torch.Tensor, gen: torch.Generator, *, p: float = 0.45, thinner: int = 1,
                 bolder: int = 3) -> torch.Tensor:
    """Thinner or bolder strokes: grey-level erosion or dilation at twice the resolution; each
    step moves every edge by half a pixel, so a stroke gets one pixel wider or narrower (up to
    ``thinner`` steps thinner, ``bolder`` bolder). One number of steps per batch keeps it to
    one pass; batch after batch, every width comes up."""
    n = x.shape[0]
    pick = torch.nonzero(_chance(n, p, gen)).flatten()
    choices = [s for s in range(-thinner, bolder + 1) if s]
    step = choices[int(torch.randint(len(choices), (1,), generator=gen))] if choices else 0
    if len(pick) == 0 or step == 0:
        return x
    index = pick.to(x.device)
    big = F.interpolate(x[index], scale_factor=2, mode="bilinear", align_corners=False)
    # k steps of a 3 x 3 window are one (2k + 1) square window.
    big = _max_filter(big, step) if step > 0 else -_max_filter(-big, -step)
    out = x.clone()
    out[index] = F.avg_pool2d(big, 2)
    return out


def _max_filter(x: torch.Tensor, radius: int) -> torch.Tensor:
    """The maximum over a (2 radius + 1) square window, as shifted maxima along rows, then
    columns (the edges repeated): the same as max_pool2d with that window and stride 1, several
    times faster than it on a CPU for these sizes."""
    h, w = x.shape[-2:]
    rows = F.pad(x, (radius, radius, 0, 0), mode="replicate")
    out = rows[..., :, 0:w]
    for i in range(1, 2 * radius + 1):
        out = torch.maximum(out, rows[..., :, i : i + w])
    cols = F.pad(out, (0, 0, radius, radius), mode="replicate")
    out = cols[..., 0:h, :]
    for i in range(1, 2 * radius + 1):
        out = torch.maximum(out, cols[..., i : i + h, :])
    return out


def _zhang_suen_tables() -> torch.Tensor:
    """2 x 256 floats: 1 where a foreground pixel whose neighbours P2..P9 (north, then clockwise)
    are the bits 0..7 of the index goes in the first (row 0) or the second (row 1) sub-step of
    a Zhang-Suen round."""
    codes = torch.arange(256)
    p2, p3, p4, p5, p6, p7, p8, p9 = (((codes >> bit) & 1).bool() for bit in range(8))
    ring = [p2, p3, p4, p5, p6, p7, p8, p9, p2]
    count = sum(neighbour.long() for neighbour in ring[:-1])
    transitions = sum((~a & b).long() for a, b in zip(ring[:-1], ring[1:]))  # 0 -> 1 around P2..P9
    removable = (count >= 2) & (count <= 6) & (transitions == 1)
    first = removable & ~(p2 & p4 & p6) & ~(p4 & p6 & p8)
    second = removable & ~(p2 & p4 & p8) & ~(p2 & p6 & p8)
    return torch.stack([first, second]).float()


_ZHANG_SUEN_TABLES = _zhang_suen_tables()


def _thin(binary: torch.Tensor, max_rounds: int = 8) -> torch.Tensor:
    """Zhang-Suen thinning of a N x 1 x H x W 0/1 batch: each shape's one-pixel centre line.
    ``max_rounds`` bounds the work: each round peels one pixel off both sides, and what is
    left of a stroke bolder than that is widened by the pen afterwards anyway.

    Each sub-step sums every pixel's neighbours, weighted by powers of two, into one code (exact
    in float32) and looks the pixel's fate up in a table: about ten passes over the batch where
    the rules written out in boolean arithmetic take some forty, each several times slower. The
    image is kept flat with a border of zeros, so that each neighbour is one contiguous slice."""
    n, _, h, w = binary.shape
    row = w + 2
    img = F.pad((binary > 0.5).float(), (1, 1, 1, 1)).reshape(n, -1)
    first, last = row + 1, img.shape[1] - row - 1  # from the first pixel inside to the last
    # (weight, offset) of P3..P9; P2, the pixel above, has weight 1
    neighbours = ((2, 1 - row), (4, 1), (8, row + 1), (16, row), (32, row - 1), (64, -1), (128, -row - 1))
    tables = _ZHANG_SUEN_TABLES.to(img.device)
    centre = img[:, first:last]  # the border columns inside this span are 0 and stay 0
    for _ in range(max_rounds):
        changed = False
        for table in tables:
            codes = img[:, first - row : last - row].clone()
            for weight, offset in neighbours:
                codes.add_(img[:, first + offset : last + offset], alpha=weight)
            remove = table.index_select(0, codes.view(-1).int()).view_as(codes) * centre
            if float(remove.sum()) > 0:
                centre.sub_(remove)
                changed = True
        if not changed:
            break
    return img.view(n, 1, h + 2, w + 2)[:, :, 1:-1, 1:-1].contiguous()


def restroke(x: torch.Tensor, gen: torch.Generator, *, p: float = 0.25, thinnest: int = 1,
             thickest: int = 5) -> torch.Tensor:
    """The digit redrawn along its centre line with a round pen of even width, as the drawing
    canvas inks it (handwriting on paper varies in width; a mouse or finger does not): thinned
    at twice the resolution, then widened by a pen of radius ``thinnest``..``thickest`` half
    pixels (one per batch)."""
    n = x.shape[0]
    pick = torch.nonzero(_chance(n, p, gen)).flatten()
    radius = int(torch.randint(thinnest, thickest + 1, (1,), generator=gen))
    if len(pick) == 0:
        return x
    index = pick.to(x.device)
    big = F.interpolate(x[index], scale_factor=2, mode="bilinear", align_corners=False)
    line = _thin((big > 0.5 * big.amax(dim=(1, 2, 3), keepdim=True).clamp_min(1e-6)).float())
    out = x.clone()
    out[index] = F.avg_pool2d(_max_filter(line, radius), 2)
    return out


def low_resolution(x: torch.Tensor, gen: torch.Generator, *, p: float = 0.3, smallest: int = 10,
                   largest: int = 20, max_blur: float = 0.8, binarise: bool = True) -> torch.Tensor:
    """An image seen at a few pixels and enlarged again: down to ``smallest``..``largest``
    pixels a side (area average; one size per batch), a little blur, back up to 28 (bilinear).
    With ``binarise``, then cut at preprocessing's ink level (its steep ramp) and antialiased,
    as preprocessing does to a blurry scan."""
    n, _, h, w = x.shape
    pick = torch.nonzero(_chance(n, p, gen)).flatten()
    size = int(torch.randint(smallest, largest + 1, (1,), generator=gen))
    blurs = _uniform(len(pick), 0.0, max_blur, gen)
    if len(pick) == 0:
        return x
    index = pick.to(x.device)
    small = F.interpolate(x[index], size=(size, size), mode="area")
    small = _blur(small, blurs.to(x.device))
    big = F.interpolate(small, size=(h, w), mode="bilinear", align_corners=False)
    if binarise:
        top = big.amax(dim=(1, 2, 3), keepdim=True).clamp_min(1e-6)
        fine = F.interpolate(big, scale_factor=2, mode="bilinear", align_corners=False) / top
        big = F.avg_pool2d(((fine - INK_LEVEL) / INK_RAMP + 0.5).clamp(0, 1), 2)
    out = x.clone()
    out[index] = big
    return out


def _blur(x: torch.Tensor, sigma: torch.Tensor) -> torch.Tensor:
    """A separable Gaussian blur with one sigma per image (sigma 0 leaves it as it is)."""
    radius = 2
    offsets = torch.arange(-radius, radius + 1, dtype=x.dtype, device=x.device)
    s = sigma.clamp_min(1e-3)[:, None]
    kernel = torch.exp(-0.5 * (offsets[None, :] / s) ** 2)
    kernel = kernel / kernel.sum(1, keepdim=True)  # N x 5
    n, c, h, w = x.shape
    flat = x.reshape(1, n * c, h, w)
    kx = kernel.repeat_interleave(c, 0)[:, None, None, :]
    ky = kernel.repeat_interleave(c, 0)[:, None, :, None]
    flat = F.conv2d(F.pad(flat, (radius, radius, 0, 0), mode="replicate"), kx, groups=n * c)
    flat = F.conv2d(F.pad(flat, (0, 0, radius, radius), mode="replicate"), ky, groups=n * c)
    return flat.reshape(n, c, h, w)


def exposure(x: torch.Tensor, gen: torch.Generator, *, p: float = 0.5, gain: tuple[float, float] = (0.75, 1.1),
             gamma: tuple[float, float] = (0.75, 1.35), floor: float = 0.08) -> torch.Tensor:
    """A photo's exposure once the light is divided out: gain, gamma and a backdrop floor
    subtracted (what preprocessing removes takes the garment's faintest parts with it)."""
    n = x.shape[0]
    on = _chance(n, p, gen).to(x.device)
    g = _uniform(n, *gain, gen).to(x.device)[:, None, None, None]
    gm = torch.exp(_uniform(n, math.log(gamma[0]), math.log(gamma[1]), gen)).to(x.device)[:, None, None, None]
    f = _uniform(n, 0.0, floor, gen).to(x.device)[:, None, None, None]
    changed = ((x.clamp(0, 1) ** gm * g - f) / (1 - f)).clamp(0, 1)
    return torch.where(on[:, None, None, None], changed, x)


def flagged_ones(x: torch.Tensor, labels: torch.Tensor, gen: torch.Generator, *, p: float = 0.35) -> torch.Tensor:
    """Ones written with a flag: a short stroke down and to the left from the top of the
    upright, as many people write a one (and as few of MNIST's ones are). It is shorter and
    steeper than a seven's bar, which runs level."""
    n, _, h, w = x.shape
    pick = torch.nonzero((labels.cpu() == 1) & _chance(n, p, gen)).flatten()
    if len(pick) == 0:
        return x
    m = len(pick)
    ink = x[pick.to(x.device), 0].cpu()
    rows = torch.arange(h, dtype=torch.float32)
    cols = torch.arange(w, dtype=torch.float32)
    present = ink > 0.5
    has_ink = present.flatten(1).any(1)
    top = torch.where(present.any(2), rows, torch.full((h,), float(h))).min(1).values  # first inked row
    bottom = torch.where(present.any(2), rows, torch.full((h,), -1.0)).max(1).values
    top = torch.where(has_ink, top, torch.zeros(m))
    top_row = ink[torch.arange(m), top.long().clamp(0, h - 1)]
    left = (top_row * cols).sum(1) / top_row.sum(1).clamp_min(1e-6)  # the middle of the top row
    height = (bottom - top).clamp_min(4.0)
    length = height * _uniform(m, 0.15, 0.3, gen)
    angle = _uniform(m, 25.0, 55.0, gen) * (math.pi / 180)  # below the horizontal
    x0, y0 = left, top + 0.5
    x1, y1 = x0 - length * torch.cos(angle), y0 + length * torch.sin(angle)
    width = (ink.sum((1, 2)) / height).clamp(1.5, 4.0)  # the upright's own stroke width
    yy, xx = torch.meshgrid(rows, cols, indexing="ij")
    dx, dy = (x1 - x0)[:, None, None], (y1 - y0)[:, None, None]
    t = (((xx - x0[:, None, None]) * dx + (yy - y0[:, None, None]) * dy) / (dx * dx + dy * dy)).clamp(0, 1)
    distance = torch.hypot(xx - (x0[:, None, None] + t * dx), yy - (y0[:, None, None] + t * dy))
    flag = (width[:, None, None] / 2 + 0.5 - distance).clamp(0, 1) * has_ink[:, None, None]
    out = x.clone()
    index = pick.to(x.device)
    out[index, 0] = torch.maximum(x[index, 0], flag.to(x.device))
    return out


def flip(x: torch.Tensor, gen: torch.Generator, p: float = 0.5) -> torch.Tensor:
    mask = _chance(x.shape[0], p, gen).to(x.device)
    return torch.where(mask[:, None, None, None], x.flip(-1), x)


# -- outliers -----------------------------------------------------------------------------------
#
# Inputs no class fits, in the form preprocessing gives them, for outlier exposure (Hendrycks et
# al., "Deep anomaly detection with outlier exposure", 2019): the model learns to spread its
# probability over all classes for them, which keeps their energy high (core/ood.py). Garments
# and digits are not among them: the other data set need not be on the user's machine, and the
# evaluation keeps them as kinds of input the detector never saw.


def _centred(patches: list[torch.Tensor]) -> torch.Tensor:
    """Patches (h x w, at most 28 a side) pasted in the middle of 28 x 28 black images."""
    out = torch.zeros(len(patches), 1, 28, 28)
    for i, patch in enumerate(patches):
        h, w = patch.shape
        top, left = (28 - h) // 2, (28 - w) // 2
        out[i, 0, top : top + h, left : left + w] = patch
    return out


def _box(gen: torch.Generator, longest: int, narrowest: float = 0.5) -> tuple[int, int]:
    # Not narrower than ``narrowest`` of the long side: anything thin and upright reads as a one.
    short = int(torch.randint(round(longest * narrowest), longest + 1, (1,), generator=gen))
    return (longest, short) if bool(torch.rand(1, generator=gen) < 0.5) else (short, longest)


def _blob(h: int, w: int, gen: torch.Generator) -> torch.Tensor:
    """An irregular filled shape covering 35-90% of its box (h x w), as a 0/1 field at twice the size."""
    k = int(torch.randint(2, 7, (1,), generator=gen))
    field = F.interpolate(torch.randn(1, 1, k, k, generator=gen), size=(2 * h, 2 * w), mode="bicubic",
                          align_corners=False)[0, 0]
    fill = float(_uniform(1, 0.35, 0.9, gen))
    return (field >= torch.quantile(field.flatten(), 1 - fill)).float()


def _speckle(h: int, w: int, gen: torch.Generator) -> torch.Tensor:
    r = int(torch.randint(5, 21, (1,), generator=gen))
    field = torch.rand(1, 1, r, r, generator=gen)
    field = F.interpolate(field, size=(2 * h, 2 * w), mode="nearest")[0, 0]
    return (field < float(_uniform(1, 0.25, 0.7, gen))).float()


def _grating(h: int, w: int, gen: torch.Generator) -> torch.Tensor:
    yy, xx = torch.meshgrid(torch.linspace(0, 1, 2 * h), torch.linspace(0, 1, 2 * w), indexing="ij")
    angle = float(_uniform(1, 0, math.pi, gen))
    cycles = float(_uniform(1, 2, 6, gen))
    wave = torch.sin(2 * math.pi * cycles * (math.cos(angle) * xx + math.sin(angle) * yy) + float(_uniform(1, 0, 6.3, gen)))
    if bool(torch.rand(1, generator=gen) < 0.5):  # a checkerboard
        wave = wave * torch.sin(2 * math.pi * cycles * (math.cos(angle) * yy - math.sin(angle) * xx))
    return (wave > 0).float()


def _scribble(h: int, w: int, gen: torch.Generator) -> torch.Tensor:
    """One to three random smooth strokes fitted into h x w (grey levels, at the final size)."""
    strokes = int(torch.randint(1, 4, (1,), generator=gen))
    points = []
    for _ in range(strokes):
        steps = int(torch.randint(20, 60, (1,), generator=gen))
        turn = torch.cumsum(torch.randn(steps, generator=gen) * 0.35, 0) + float(_uniform(1, 0, 6.3, gen))
        xy = torch.cumsum(torch.stack([torch.cos(turn), torch.sin(turn)], 1), 0)
        xy = xy + torch.randn(1, 2, generator=gen) * 8
        points.append(xy)
    xy = torch.cat(points)
    lo, hi = xy.min(0).values, xy.max(0).values
    span = (hi - lo).clamp_min(1e-3)
    xy = (xy - lo) / span * torch.tensor([w - 2.0, h - 2.0]) + 1.0
    # Densify so that neighbouring points are under half a pixel apart.
    xy = F.interpolate(xy.T[None], scale_factor=4, mode="linear", align_corners=True)[0].T
    yy, xx = torch.meshgrid(torch.arange(h, dtype=torch.float32), torch.arange(w, dtype=torch.float32), indexing="ij")
    grid = torch.stack([xx.flatten(), yy.flatten()], 1)
    distance = torch.cdist(grid, xy).min(1).values.reshape(h, w)
    width = float(_uniform(1, 1.5, 3.5, gen))
    return (width / 2 + 0.5 - distance).clamp(0, 1) * float(_uniform(1, 0.6, 1.0, gen))


def _fit(field: torch.Tensor, longest: int, binary: bool) -> torch.Tensor:
    """Cropped to its ink and scaled so that its longer side is ``longest`` pixels, as
    preprocessing does: a 0/1 field made at twice the size is antialiased on the way down."""
    rows = torch.nonzero((field > 0.5).any(1)).flatten()
    cols = torch.nonzero((field > 0.5).any(0)).flatten()
    if len(rows) == 0:
        field = torch.ones(2, 2)
    else:
        field = field[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    h, w = field.shape
    scale = (2 * longest if binary else longest) / max(h, w)
    size = (max(1, round(h * scale)), max(1, round(w * scale)))
    if binary:
        size = (size[0] + size[0] % 2, size[1] + size[1] % 2)  # even, for the 2 x 2 average
        big = F.interpolate(field[None, None], size=size, mode="nearest")
        return F.avg_pool2d(big, 2)[0, 0]
    return F.interpolate(field[None, None], size=size, mode="bilinear", align_corners=False)[0, 0].clamp(0, 1)


def outliers(n: int, input_kind: str, gen: torch.Generator) -> torch.Tensor:
    """``n`` synthetic outliers (N x 1 x 28 x 28 in [0, 1]) shaped as preprocessing shapes
    inputs of ``input_kind``: binarised and fitted into 20 x 20 for digits (filled blobs,
    speckle, stripes and checks); grey and fitted to 28 for garments (scribbles, speckle,
    stripes)."""
    patches = []
    for _ in range(n):
        family = int(torch.randint(3, (1,), generator=gen))
        if input_kind == "digit":
            # Down to 8 of 20 pixels wide: wider than the boldest one, as narrow as a dress.
            h, w = _box(gen, 20, narrowest=0.4)
            patches.append(_fit((_blob, _speckle, _grating)[family](h, w, gen), 20, binary=True))
        elif input_kind == "garment":
            h, w = _box(gen, 28)
            if family == 0:
                patches.append(_fit(_scribble(h, w, gen), 28, binary=False))
            else:
                shape = (_speckle if family == 1 else _grating)(h, w, gen)
                patches.append(_fit(shape, 28, binary=True) * float(_uniform(1, 0.3, 1.0, gen)))
        else:
            raise ValueError(f"unknown input kind {input_kind!r}")
    return _centred(patches)


def draw_outliers(bank: torch.Tensor, n: int, gen: torch.Generator) -> torch.Tensor:
    """``n`` outliers from a bank made by :func:`outliers`, each turned or mirrored at random
    (the eight symmetries of a square), so a small bank gives eight times its variety."""
    pick = torch.randint(len(bank), (n,), generator=gen)
    x = bank[pick].clone()
    turn = torch.randint(4, (n,), generator=gen)
    mirror = torch.rand(n, generator=gen) < 0.5
    for k in range(1, 4):
        chosen = turn == k
        if bool(chosen.any()):
            x[chosen] = torch.rot90(x[chosen], k, dims=(2, 3))
    x[mirror] = x[mirror].flip(-1)
    return x


def mirrors(policy: str, input_kind: str) -> bool:
    """Whether augmentation ``policy`` trains a model of ``input_kind`` on left-right mirror
    images (half of them, as :func:`real_inputs` does for garments)."""
    return policy == "real-inputs" and input_kind == "garment"


def real_inputs(images: torch.Tensor, input_kind: str, gen: torch.Generator,
                labels: torch.Tensor | None = None) -> torch.Tensor:
    """The ``real-inputs`` policy: uint8 N x 28 x 28 -> float N x 1 x 28 x 28 in [0, 1].
    ``labels`` (digits only) lets ones get flags."""
    x = images.float().div(255).unsqueeze(1)
    if input_kind == "digit":
        if labels is not None:
            x = flagged_ones(x, labels, gen)
        x = geometric(x, gen)
        x = restroke(x, gen)
        x = stroke_width(x, gen)
        x = low_resolution(x, gen)
    elif input_kind == "garment":
        x = flip(x, gen)
        x = exposure(x, gen)
        x = low_resolution(x, gen, p=0.2, smallest=20, largest=26, max_blur=0.5, binarise=False)
    else:
        raise ValueError(f"unknown input kind {input_kind!r}")
    return x.clamp_(0.0, 1.0)
