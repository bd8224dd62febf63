"""`lenet-gui summary`: the layer table of a preset's network or of a checkpoint."""

from __future__ import annotations

import re

import pytest

from lenet_gui.__main__ import main
from lenet_gui.core.checkpoint import load_checkpoint


def _rows(text: str) -> dict[str, str]:
    return {line.split()[0]: line for line in text.splitlines() if line[:1].isalpha() and "  " in line}


def test_default_is_the_tutorials_network(capsys):
    assert main(["summary"]) == 0
    out = capsys.readouterr().out
    rows = _rows(out)
    assert "28 − 5 + 1 = 24" in rows["conv1"] and "6 × (1 × 5 × 5) + 6 = 156" in rows["conv1"]
    assert "24 / 2 = 12" in rows["pool1"] and "16 × 4 × 4 = 256" in rows["flatten"]
    assert re.search(r"^total\s+44,426\s+281,640$", out, re.M)
    assert "(conv1): Conv2d(1, 6, kernel_size=(5, 5)" in out  # print(net) follows the table


def test_modern_preset_has_its_batch_norm(capsys):
    assert main(["summary", "--preset", "modern"]) == 0
    rows = _rows(capsys.readouterr().out)
    assert "BatchNorm2d + ReLU" in rows["bn1"] and "2 × 6 = 12" in rows["bn1"]
    assert "6 × (1 × 5 × 5) = 150" in rows["conv1"]


@pytest.mark.parametrize("key", ["mnist", "fashion-mnist"])
def test_a_bundled_model_by_name(key, bundled_models, capsys):
    total = sum(p.numel() for p in load_checkpoint(bundled_models[key]).model.parameters())
    assert main(["summary", "--model", key]) == 0
    out = capsys.readouterr().out
    assert re.search(rf"^total\s+{total:,}\s", out, re.M)


def test_a_missing_checkpoint_is_one_line(tmp_path, capsys):
    assert main(["summary", "--model", str(tmp_path / "none.pt")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("lenet-gui: error:") and "Traceback" not in err
    with pytest.raises(SystemExit):  # one or the other
        main(["summary", "--model", "mnist", "--preset", "classic"])
