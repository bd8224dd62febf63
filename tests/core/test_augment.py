"""Training augmentation that imitates real inputs (core/augment.py), on whole batches."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from lenet_gui.core import augment


def bar_batch(n: int = 8) -> torch.Tensor:
    """A vertical bar 3 pixels wide and 16 high in the middle, white on black (a '1')."""
    x = torch.zeros(n, 1, 28, 28)
    x[:, :, 6:22, 13:16] = 1.0
    return x


def gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def stroke_widths(x: torch.Tensor) -> np.ndarray:
    """The bar's width in pixels at its middle row, per image (ink summed across the row)."""
    return x[:, 0, 14, :].sum(-1).numpy()


def test_bolder_and_thinner_strokes_change_the_width_one_pixel_a_step():
    x = bar_batch(4)
    seen = set()
    for seed in range(40):
        out = augment.stroke_width(x, gen(seed), p=1.0, thinner=1, bolder=3)
        widths = set(np.round(stroke_widths(out), 3).tolist())
        assert len(widths) == 1  # one width per batch
        seen |= widths
        # The bar stays where it was: only its edges move.
        assert torch.allclose(out[:, 0, 14, 14], torch.ones(4))
    # Each step moves both edges by half a pixel: a width of 3 becomes 2, 4, 5 or 6.
    assert seen == {2.0, 4.0, 5.0, 6.0}


def test_stroke_width_with_no_chance_leaves_the_batch_alone():
    x = bar_batch()
    assert torch.equal(augment.stroke_width(x, gen(), p=0.0), x)


def test_geometric_changes_slant_and_place_but_keeps_the_ink():
    x = bar_batch(64)
    out = augment.geometric(x, gen(), p=1.0, p_elastic=1.0)
    mass = out.sum(dim=(1, 2, 3))
    # Stretched or squeezed, never lost: each image keeps between a third and twice its ink.
    assert torch.all(mass > x[0].sum() / 3) and torch.all(mass < 2 * x[0].sum())
    assert float((mass / x[0].sum()).mean()) == pytest.approx(1.0, abs=0.12)
    moved = (out - x).abs().sum(dim=(1, 2, 3))
    assert (moved > 1.0).float().mean() > 0.9  # nearly every image changed
    # Centres of mass stay within a few pixels of the middle (shift is at most 1.5 px).
    ys, xs = torch.meshgrid(torch.arange(28.0), torch.arange(28.0), indexing="ij")
    cx = (out[:, 0] * xs).sum(dim=(1, 2)) / mass
    assert torch.all((cx - 14.0).abs() < 3.0)


def test_low_resolution_then_binarised_gives_sharp_blurry_shapes():
    x = torch.zeros(16, 1, 28, 28)
    x[:, :, 6:22, 9:19] = 1.0  # a block 10 wide and 16 high
    sharp = augment.low_resolution(x, gen(), p=1.0, smallest=10, largest=10, max_blur=0.8, binarise=True)
    soft = augment.low_resolution(x, gen(), p=1.0, smallest=10, largest=10, max_blur=0.8, binarise=False)

    def grey_share(batch):  # of the pixels with any ink, those neither black nor white
        inked = batch[batch > 0.02]
        return float(((inked > 0.05) & (inked < 0.95)).float().mean())

    # Enlarged from 10 pixels, the block is a blur; cut at the ink level, it has sharp edges
    # (grey only where the edge crosses a pixel), as preprocessing makes of a blurry scan.
    assert grey_share(soft) > 0.4 and grey_share(sharp) < 0.5 * grey_share(soft)
    assert torch.allclose(sharp[:, 0, 14, 14], torch.ones(16))


def test_real_inputs_is_repeatable_with_a_seed_and_stays_in_range():
    images = (bar_batch(32)[:, 0] * 150).to(torch.uint8)  # grey, so that any change of exposure shows
    for kind in ("digit", "garment"):
        a = augment.real_inputs(images, kind, gen(3))
        b = augment.real_inputs(images, kind, gen(3))
        c = augment.real_inputs(images, kind, gen(4))
        assert a.shape == (32, 1, 28, 28) and a.dtype == torch.float32
        assert torch.equal(a, b) and not torch.equal(a, c)
        assert float(a.min()) >= 0.0 and float(a.max()) <= 1.0
        # A share of every batch stays as the data set has it.
        unchanged = ((a[:, 0] - images.float() / 255).abs().amax(dim=(1, 2)) < 1e-4).float().mean()
        assert 0.05 < float(unchanged) < 0.9


def test_exposure_only_darkens_or_brightens_never_moves_the_garment():
    x = torch.zeros(16, 1, 28, 28)
    x[:, :, 4:24, 6:22] = 0.6
    out = augment.exposure(x, gen(), p=1.0)
    inside = out[:, 0, 4:24, 6:22]
    assert torch.all(out[:, 0, :4] == 0) and torch.all(out[:, 0, :, :6] == 0)
    assert float(inside.min()) > 0.25 and float(inside.max()) < 0.8
    assert float(inside.std(dim=(1, 2)).max()) < 1e-5  # one gain and gamma per image


def test_ones_get_a_short_steep_flag_at_the_top_and_other_digits_nothing():
    x = bar_batch(6)
    labels = torch.tensor([1, 1, 1, 7, 4, 1])
    out = augment.flagged_ones(x, labels, gen(), p=1.0)
    for i in (3, 4):
        assert torch.equal(out[i], x[i])
    for i in (0, 1, 2, 5):
        added = (out[i, 0] - x[i, 0]).clamp_min(0)
        ys, xs = torch.nonzero(added > 0.5, as_tuple=True)
        assert len(ys) > 0
        # Left of the upright (columns 13-15), from the top of the bar (rows 6-21) down to
        # at most its top third, the further left, the lower.
        assert xs.float().mean() < 13 and xs.min() < 12
        assert ys.min() >= 5 and ys.max() <= 6 + 16 // 3 + 2
        assert np.corrcoef(xs.numpy(), ys.numpy())[0, 1] < -0.5
        # Shorter than the upright is tall: not a seven's bar.
        assert 13 - xs.min() <= 0.3 * 16 + 1.5


def ink_extent(img: torch.Tensor) -> tuple[int, int]:
    rows = torch.nonzero((img > 0.05).any(1)).flatten()
    cols = torch.nonzero((img > 0.05).any(0)).flatten()
    return int(rows[-1] - rows[0] + 1), int(cols[-1] - cols[0] + 1)


def test_outliers_come_shaped_as_preprocessing_shapes_each_kind_of_input():
    digits = augment.outliers(24, "digit", gen(1))
    garments = augment.outliers(24, "garment", gen(1))
    assert digits.shape == garments.shape == (24, 1, 28, 28)
    for batch, longest in ((digits, 20), (garments, 28)):
        assert float(batch.min()) >= 0 and float(batch.max()) <= 1
        for img in batch[:, 0]:
            h, w = ink_extent(img)
            assert max(h, w) <= longest and max(h, w) >= longest - 3
    assert torch.equal(augment.outliers(5, "digit", gen(2)), augment.outliers(5, "digit", gen(2)))
    # Shapes, not solid boxes: ink covers part of each one's box, and no two are alike.
    for batch in (digits, garments):
        cover = [(img > 0.5).float().mean() / (ink_extent(img)[0] * ink_extent(img)[1] / 784) for img in batch[:, 0]]
        assert max(cover) < 0.98 and 0.2 < float(np.mean(cover)) < 0.85
        assert len({img.numpy().tobytes() for img in batch}) == len(batch)


def test_outliers_drawn_from_a_bank_are_its_images_turned_or_mirrored():
    bank = augment.outliers(6, "digit", gen(3))
    drawn = augment.draw_outliers(bank, 40, gen(4))
    variants = [torch.rot90(b, k, dims=(1, 2)).flip(-1) if m else torch.rot90(b, k, dims=(1, 2))
                for b in bank for k in range(4) for m in (False, True)]
    for img in drawn:
        assert any(torch.equal(img, v) for v in variants)
    assert len({img.numpy().tobytes() for img in drawn}) > 10


def _zhang_suen_by_the_book(image: np.ndarray, max_rounds: int) -> np.ndarray:
    """Zhang and Suen (1984), pixel by pixel as the paper states it; pixels outside are 0."""
    img = np.pad(image.astype(bool), 1)
    for _ in range(max_rounds):
        changed = False
        for sub_step in (0, 1):
            marked = []
            for i in range(1, img.shape[0] - 1):
                for j in range(1, img.shape[1] - 1):
                    if not img[i, j]:
                        continue
                    p2, p3, p4, p5 = img[i - 1, j], img[i - 1, j + 1], img[i, j + 1], img[i + 1, j + 1]
                    p6, p7, p8, p9 = img[i + 1, j], img[i + 1, j - 1], img[i, j - 1], img[i - 1, j - 1]
                    ring = [p2, p3, p4, p5, p6, p7, p8, p9, p2]
                    b = sum(ring[:-1])
                    a = sum(1 for u, v in zip(ring[:-1], ring[1:]) if not u and v)
                    if sub_step == 0:
                        keep = (p2 and p4 and p6) or (p4 and p6 and p8)
                    else:
                        keep = (p2 and p4 and p8) or (p2 and p6 and p8)
                    if 2 <= b <= 6 and a == 1 and not keep:
                        marked.append((i, j))
            for i, j in marked:
                img[i, j] = False
            changed |= bool(marked)
        if not changed:
            break
    return img[1:-1, 1:-1].astype(np.float32)


@pytest.mark.parametrize("max_rounds", [1, 3, 8])
def test_thinning_leaves_the_centre_lines_zhang_and_suen_define(max_rounds):
    rng = np.random.default_rng(0)
    shapes = np.zeros((6, 18, 20), dtype=np.float32)
    shapes[0, 3:15, 7:12] = 1  # a bold upright
    shapes[1, 8:11, 2:18] = 1  # a bar across
    shapes[2] = np.hypot(*np.mgrid[-9:9, -10:10]) < 7  # a disc
    shapes[3, :, :] = 1  # touching every edge
    shapes[4:] = rng.random((2, 18, 20)) < 0.6  # blobs with holes and ties everywhere
    ours = augment._thin(torch.from_numpy(shapes).unsqueeze(1), max_rounds=max_rounds)
    for image, thinned in zip(shapes, ours[:, 0].numpy()):
        np.testing.assert_array_equal(thinned, _zhang_suen_by_the_book(image, max_rounds))


def test_restroke_redraws_thin_and_bold_strokes_with_one_pen():
    x = torch.zeros(2, 1, 28, 28)
    x[0, :, 6:22, 13:15] = 1.0  # a thin upright, 2 pixels wide
    x[1, :, 6:22, 11:17] = 1.0  # a bold one, 6 pixels wide
    for radius, width in ((1, 1.5), (3, 3.5), (5, 5.5)):
        out = augment.restroke(x, gen(), p=1.0, thinnest=radius, thickest=radius)
        # A pen of radius r half-pixels draws a stroke 2r + 1 half-pixels wide, whatever the
        # stroke was before.
        widths = stroke_widths(out)
        assert widths == pytest.approx([width, width], abs=0.51), (radius, widths)
        # Along the same centre line, as tall as before (give or take the pen's caps).
        for img in out[:, 0]:
            rows = torch.nonzero(img.amax(1) > 0.5).flatten()
            assert abs(int(rows[0]) - 6) <= 3 and abs(int(rows[-1]) - 21) <= 3
            cols = torch.nonzero(img[14] > 0.5).flatten().float()
            assert abs(float(cols.mean()) - 13.5) <= 1.0
