"""The engine's optimizer step makes torch's own optimizer.step() updates, bit for bit."""

from __future__ import annotations

import copy

import pytest
import torch

from lenet_gui.core.model import LeNet, ModelConfig
from lenet_gui.core.optimizer_step import clear_gradients, stepper


def _models():
    torch.manual_seed(0)
    model = LeNet(ModelConfig(activation="sigmoid", pool="max", batch_norm=False, dropout=0.0))
    return model, copy.deepcopy(model)


def _backward(model: LeNet, seed: int) -> None:
    gen = torch.Generator().manual_seed(seed)
    x = torch.rand(16, 1, 28, 28, generator=gen)
    y = torch.randint(0, 10, (16,), generator=gen)
    torch.nn.functional.cross_entropy(model(x), y).backward()


def _same(a: LeNet, b: LeNet) -> bool:
    return all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))


@pytest.mark.parametrize("kind", [torch.optim.Adam, torch.optim.AdamW])
def test_the_direct_step_updates_weights_and_state_exactly_as_torch_does(kind):
    reference, direct = _models()
    torch_opt = kind(reference.parameters(), lr=0.01, weight_decay=0.05, fused=True)
    our_opt = kind(direct.parameters(), lr=0.01, weight_decay=0.05, fused=True)
    step = stepper(our_opt)
    params = list(direct.parameters())
    assert step is not our_opt.step  # the direct route is the one under test
    for seed in range(6):
        torch_opt.zero_grad(set_to_none=True)
        clear_gradients(params)
        assert all(p.grad is None for p in params)
        _backward(reference, seed)
        _backward(direct, seed)
        torch_opt.step()
        step()
        if seed == 3:  # a scheduler changes the rate between steps: the next step uses it
            for opt in (torch_opt, our_opt):
                opt.param_groups[0]["lr"] = 0.003
    assert _same(reference, direct)
    ours, theirs = our_opt.state_dict()["state"], torch_opt.state_dict()["state"]
    for key in theirs:
        for name in ("step", "exp_avg", "exp_avg_sq"):
            assert torch.equal(ours[key][name], theirs[key][name])
    assert float(ours[0]["step"]) == 6


def test_a_flagged_step_is_skipped_as_torch_skips_it():
    reference, direct = _models()
    torch_opt = torch.optim.Adam(reference.parameters(), lr=0.01, fused=True)
    our_opt = torch.optim.Adam(direct.parameters(), lr=0.01, fused=True)
    torch_opt.found_inf = torch.zeros(())
    our_opt.found_inf = torch.zeros(())
    step = stepper(our_opt)
    for seed in range(4):
        if seed == 2:  # the engine's divergence flag: this step and every later one are skipped
            torch_opt.found_inf.fill_(1.0)
            our_opt.found_inf.fill_(1.0)
            before = [p.clone() for p in direct.parameters()]
        for model in (reference, direct):
            model.zero_grad(set_to_none=True)
            _backward(model, seed)
        torch_opt.step()
        step()
    assert _same(reference, direct)
    assert all(torch.equal(p, q) for p, q in zip(before, direct.parameters()))
    assert float(our_opt.state_dict()["state"][0]["step"]) == 2


def test_a_loaded_state_dict_is_the_state_the_next_step_updates():
    reference, direct = _models()
    torch_opt = torch.optim.Adam(reference.parameters(), lr=0.01, fused=True)
    our_opt = torch.optim.Adam(direct.parameters(), lr=0.01, fused=True)
    step = stepper(our_opt)
    for seed in range(2):
        for model in (reference, direct):
            model.zero_grad(set_to_none=True)
            _backward(model, seed)
        torch_opt.step()
        step()
    # Both go back to the reference's state after one step (new tensors in our optimizer).
    saved = copy.deepcopy(torch_opt.state_dict())
    torch_opt.load_state_dict(saved)
    our_opt.load_state_dict(copy.deepcopy(saved))
    with torch.no_grad():
        for p, q in zip(direct.parameters(), reference.parameters()):
            p.copy_(q)
    for model in (reference, direct):
        model.zero_grad(set_to_none=True)
        _backward(model, 7)
    torch_opt.step()
    step()
    assert _same(reference, direct)
    assert float(our_opt.state_dict()["state"][0]["step"]) == 3


def test_optimizers_it_does_not_cover_step_themselves():
    model, _ = _models()
    for opt in (
        torch.optim.SGD(model.parameters(), lr=0.1),
        torch.optim.Adam(model.parameters(), lr=0.1),  # not fused
        torch.optim.Adam(model.parameters(), lr=0.1, fused=True, amsgrad=True),
    ):
        assert stepper(opt) == opt.step


def test_the_hooks_of_a_step_still_run():
    model, _ = _models()
    opt = torch.optim.Adam(model.parameters(), lr=0.01, fused=True)
    step = stepper(opt)
    calls = []
    opt.register_step_post_hook(lambda optimizer, args, kwargs: calls.append(optimizer))
    for seed in range(3):
        clear_gradients(list(model.parameters()))
        _backward(model, seed)
        step()
    assert calls == [opt] * 3
