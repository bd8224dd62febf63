"""An optimizer's step and the clearing of gradients before it, without torch's per-call overhead.

For LeNet's ten small parameter tensors, ``torch.optim.Adam(fused=True).step()`` spends several
times as long in Python (grouping the tensors by device and dtype, checking options, the
profiler's and hooks' bookkeeping) as its fused kernel takes to update every weight.
``stepper(optimizer)`` returns a callable that makes the same update: for a fused Adam or AdamW
with one parameter group, the same kernel called directly on the optimizer's own state, so that
its results are bit for bit those of ``optimizer.step()`` and its state dict stays valid;
for any other optimizer, ``optimizer.step`` itself.
"""

from __future__ import annotations

from typing import Callable

import torch
import torch.optim.optimizer as torch_optimizer


def clear_gradients(params: list[torch.Tensor]) -> None:
    """``optimizer.zero_grad(set_to_none=True)``, for a list of parameters."""
    for param in params:
        param.grad = None


class _DirectFusedAdam:
    def __init__(self, optimizer: torch.optim.Optimizer):
        self.optimizer = optimizer
        group = optimizer.param_groups[0]
        self.params: list[torch.Tensor] = group["params"]
        self.kernel = torch._fused_adamw_ if group.get("decoupled_weight_decay") else torch._fused_adam_
        self.exp_avgs: list[torch.Tensor] = []
        self.exp_avg_sqs: list[torch.Tensor] = []
        self.steps: list[torch.Tensor] = []

    def _state_is_current(self) -> bool:
        # The optimizer's state is made by its first step, and replaced when a state dict is
        # loaded into it: the lists must be the tensors it holds now.
        state = self.optimizer.state.get(self.params[0])
        return bool(self.exp_avgs) and state is not None and state.get("exp_avg") is self.exp_avgs[0]

    def __call__(self) -> None:
        grads = [param.grad for param in self.params]
        if any(grad is None for grad in grads) or _has_step_hooks(self.optimizer) or not self._state_is_current():
            self.optimizer.step()
            states = [self.optimizer.state[param] for param in self.params]
            if all("exp_avg" in state for state in states):
                self.exp_avgs = [state["exp_avg"] for state in states]
                self.exp_avg_sqs = [state["exp_avg_sq"] for state in states]
                self.steps = [state["step"] for state in states]
            return
        group = self.optimizer.param_groups[0]
        beta1, beta2 = group["betas"]
        # What torch.optim.adam._fused_adam does around the kernel, in the same order.
        found_inf = getattr(self.optimizer, "found_inf", None)
        with torch.no_grad():  # as optimizer.step() runs: the weights are updated in place
            torch._foreach_add_(self.steps, 1)
            self.kernel(
                self.params, grads, self.exp_avgs, self.exp_avg_sqs, [], self.steps,
                amsgrad=False, lr=group["lr"], beta1=beta1, beta2=beta2, weight_decay=group["weight_decay"],
                eps=group["eps"], maximize=False, grad_scale=None, found_inf=found_inf,
            )
            if found_inf is not None:
                torch._foreach_sub_(self.steps, [found_inf] * len(self.steps))


def _has_step_hooks(optimizer: torch.optim.Optimizer) -> bool:
    # Hooks run in optimizer.step(), which a direct call of the kernel would skip.
    return any(
        getattr(owner, name, None)
        for owner, name in (
            (optimizer, "_optimizer_step_pre_hooks"), (optimizer, "_optimizer_step_post_hooks"),
            (torch_optimizer, "_global_optimizer_pre_hooks"), (torch_optimizer, "_global_optimizer_post_hooks"),
        )
    )


def _direct_call_applies(optimizer: torch.optim.Optimizer) -> bool:
    if not isinstance(optimizer, torch.optim.Adam) or len(optimizer.param_groups) != 1:
        return False
    group = optimizer.param_groups[0]
    plain = not any(group.get(option) for option in ("amsgrad", "maximize", "capturable", "differentiable"))
    return (
        bool(group.get("fused")) and plain and not isinstance(group["lr"], torch.Tensor)
        and hasattr(torch, "_fused_adam_") and hasattr(torch, "_fused_adamw_")
    )


def stepper(optimizer: torch.optim.Optimizer) -> Callable[[], None]:
    """A callable that does ``optimizer.step()``, by the quickest route that gives its results."""
    if _direct_call_applies(optimizer):
        return _DirectFusedAdam(optimizer)
    return optimizer.step
