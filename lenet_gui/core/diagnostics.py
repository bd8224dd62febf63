"""What each layer of a training LeNet is doing: gradient and weight norms, the size of each
update, how many of its units are saturated (sigmoid) or dead (ReLU), and histograms.

The textbook's reason why the classic (sigmoid) recipe learns slowly is that its sigmoids
saturate and the gradient that reaches conv1 is tiny; these figures let a learner see it while
the network trains. The engine gathers them every ``every`` steps (a *sampled* step) and at
the last batch of each epoch (which adds the histograms):

* the forward hooks that see the activations are attached for a sampled step's forward pass
  only and removed after it, so the other steps run exactly as without diagnostics;
* every figure is computed on the device and kept there; the engine reads them back when it
  reads the batches' losses back anyway (see ``engine._PendingBatches``), so gathering adds no
  wait for the device, on any step;
* the figures describe the weights, gradients and batch of that very step, and the training
  itself is the same, to the bit, with diagnostics on or off.

Per layer (``LAYERS``, named as ``model.LAYER_NAMES`` names them; ``logits`` is fc3, which a
user reads as "output"):

* ``grad_norm``: the L2 norm of the gradient of the layer's weight and bias, on that batch;
* ``weight_norm``: the L2 norm of its weight and bias after the step;
* ``update_ratio``: ``‖w_after - w_before‖ / ‖w_before‖`` of that step's update;
* ``inactive``: for a sigmoid layer the share of its outputs on that batch whose slope
  σ′ = σ(1 - σ) is below ``SATURATION_THRESHOLD`` (they pass almost no gradient back), for a
  ReLU layer the share of its units that output 0 for every image of the batch (dead on it:
  they pass no gradient back at all); ``None`` for the output layer, which has no activation.

The activations are those the activation function receives and returns. Where the model pools
before its activation (its fast paths do, which gives the same outputs: max-pooling commutes
with a non-decreasing activation), a convolution's units are its pooled units, the ones whose
values go on to the next layer.

Histograms (fixed bins, so that epochs and runs compare): of the pre-activations (the values
entering each layer's sigmoid or ReLU; the logits for the output layer) on ``PRE_ACTIVATION_EDGES``,
and of log10 |gradient| of each layer's weights on ``LOG_GRADIENT_EDGES``; values beyond the
edges are counted in the outer bins.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

# The layers with weights, in data-flow order, as model.LAYER_NAMES names them.
LAYERS = ("conv1", "conv2", "fc1", "fc2", "logits")
# How often a step is sampled by default: often enough for smooth curves (a classic epoch has
# 235 steps), rarely enough that gathering stays a small share of the epoch's time
# (benchmarks/diagnostics_overhead.py measures it).
DIAGNOSTICS_EVERY = 10
# σ′ = σ(1 − σ) peaks at 0.25 (σ = 0.5); below 0.01 the unit is within 1 % of 0 or 1, |z| > 4.6.
SATURATION_THRESHOLD = 0.01
PRE_ACTIVATION_RANGE = (-12.0, 12.0)
PRE_ACTIVATION_BINS = 48
LOG_GRADIENT_RANGE = (-10.0, 0.0)
LOG_GRADIENT_BINS = 40


def _edges(low: float, high: float, bins: int) -> tuple[float, ...]:
    return tuple(low + (high - low) * i / bins for i in range(bins + 1))


PRE_ACTIVATION_EDGES = _edges(*PRE_ACTIVATION_RANGE, PRE_ACTIVATION_BINS)
LOG_GRADIENT_EDGES = _edges(*LOG_GRADIENT_RANGE, LOG_GRADIENT_BINS)

FIGURES = ("grad_norm", "weight_norm", "update_ratio", "inactive")


def _plain(value: float | None) -> float | None:
    """A figure as JSON can hold it: non-finite and missing figures become None."""
    return float(value) if value is not None and math.isfinite(value) else None


def _number(value) -> float:
    return math.nan if value is None else float(value)


@dataclass(frozen=True)
class LayerFigures:
    grad_norm: float
    weight_norm: float
    update_ratio: float
    inactive: float | None  # saturated (sigmoid) or dead (ReLU) share; None for the output layer

    def to_dict(self) -> dict:
        return {name: _plain(getattr(self, name)) for name in FIGURES}

    @classmethod
    def from_dict(cls, data: dict) -> "LayerFigures":
        inactive = data.get("inactive")
        return cls(grad_norm=_number(data.get("grad_norm")), weight_norm=_number(data.get("weight_norm")),
                   update_ratio=_number(data.get("update_ratio")),
                   inactive=None if inactive is None else float(inactive))


@dataclass(frozen=True)
class DiagnosticsSample:
    """The figures of one sampled training step, per layer (keys: ``LAYERS``)."""

    epoch: int  # 1-based
    batch: int  # 1-based, within the epoch
    batches: int
    step: int  # batches done since the start of the run, this one included
    activation: str  # "sigmoid" (inactive = saturated) or "relu" (inactive = dead)
    layers: dict[str, LayerFigures]

    @property
    def x(self) -> float:
        """The fractional epoch, as the training chart's x axis counts."""
        return self.epoch - 1 + self.batch / self.batches

    def to_dict(self) -> dict:
        return {"epoch": self.epoch, "batch": self.batch, "batches": self.batches, "step": self.step,
                "activation": self.activation,
                "layers": {name: figures.to_dict() for name, figures in self.layers.items()}}

    @classmethod
    def from_dict(cls, data: dict) -> "DiagnosticsSample":
        return cls(epoch=int(data["epoch"]), batch=int(data["batch"]), batches=int(data["batches"]),
                   step=int(data["step"]), activation=str(data["activation"]),
                   layers={name: LayerFigures.from_dict(figures) for name, figures in data["layers"].items()})


@dataclass(frozen=True)
class Histogram:
    edges: tuple[float, ...]  # len(counts) + 1
    counts: tuple[int, ...]

    def to_dict(self) -> dict:
        return {"edges": list(self.edges), "counts": list(self.counts)}

    @classmethod
    def from_dict(cls, data: dict) -> "Histogram":
        edges, counts = tuple(float(e) for e in data["edges"]), tuple(int(c) for c in data["counts"])
        if len(edges) != len(counts) + 1:
            raise ValueError("a histogram needs one edge more than it has bins")
        return cls(edges, counts)

    def shares(self) -> list[float]:
        total = sum(self.counts)
        return [c / total if total else 0.0 for c in self.counts]


@dataclass(frozen=True)
class DiagnosticsHistogram:
    """Per layer, at the last batch of an epoch: histograms of the pre-activations and of
    log10 |gradient| of the weights."""

    epoch: int
    step: int
    activation: str
    pre_activations: dict[str, Histogram]
    log_gradients: dict[str, Histogram]

    def to_dict(self) -> dict:
        return {"epoch": self.epoch, "step": self.step, "activation": self.activation,
                "pre_activations": {k: h.to_dict() for k, h in self.pre_activations.items()},
                "log_gradients": {k: h.to_dict() for k, h in self.log_gradients.items()}}

    @classmethod
    def from_dict(cls, data: dict) -> "DiagnosticsHistogram":
        return cls(epoch=int(data["epoch"]), step=int(data["step"]), activation=str(data["activation"]),
                   pre_activations={k: Histogram.from_dict(h) for k, h in data["pre_activations"].items()},
                   log_gradients={k: Histogram.from_dict(h) for k, h in data["log_gradients"].items()})


def event_from_dict(data: dict) -> DiagnosticsSample | DiagnosticsHistogram:
    """Either kind of event, back from its ``to_dict()`` (a run history stores them so)."""
    return DiagnosticsHistogram.from_dict(data) if "pre_activations" in data else DiagnosticsSample.from_dict(data)


def layer_modules(model: nn.Module) -> dict[str, tuple[nn.Module, nn.Module]]:
    """Per layer: (the module holding its weights, the module whose input is its pre-activation
    and whose output its activation). The output layer has no activation: fc3 is both."""
    return {"conv1": (model.conv1, model.act1), "conv2": (model.conv2, model.act2),
            "fc1": (model.fc1, model.act3), "fc2": (model.fc2, model.act4), "logits": (model.fc3, model.fc3)}


def saturated_share(activations: torch.Tensor, threshold: float = SATURATION_THRESHOLD) -> torch.Tensor:
    """Share of sigmoid outputs whose slope σ(1 − σ) is below ``threshold`` (a 0-d tensor)."""
    return (activations * (1 - activations) < threshold).float().mean()


def dead_share(activations: torch.Tensor) -> torch.Tensor:
    """Share of ReLU units that output 0 for every sample of the batch (a 0-d tensor)."""
    return (activations == 0).all(0).float().mean()


def _norm(tensors: list[torch.Tensor]) -> torch.Tensor:
    return torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(t) for t in tensors]))


def _histogram(values: torch.Tensor, low: float, high: float, bins: int) -> torch.Tensor:
    # Clamped, so that values beyond the edges land in the outer bins (histc would drop them).
    return torch.histc(values.float().clamp(low, high), bins=bins, min=low, max=high)


class Diagnostics:
    """Gathers the figures for one model: the engine calls, on a step it samples,
    :meth:`begin` before the forward pass, :meth:`before_step` after the backward pass and
    :meth:`after_step` after ``optimizer.step()``. The figures stay on the device until the
    engine :meth:`take` s them, to read them back with its own, and turns them into
    :meth:`events`."""

    def __init__(self, model: nn.Module, every: int = DIAGNOSTICS_EVERY, threshold: float = SATURATION_THRESHOLD):
        if every < 1:
            raise ValueError("diagnostics need a step count of at least 1")
        self.every = every
        self.threshold = threshold
        self.activation = model.config.activation
        self.modules = layer_modules(model)
        self._hooks: list = []
        self._seen: dict[str, tuple[torch.Tensor, torch.Tensor]] = {}  # layer -> (pre-activation, activation)
        self._before: dict[str, list[torch.Tensor]] = {}
        self._grad_norms: torch.Tensor | None = None
        self._pending: list[tuple[tuple, torch.Tensor]] = []
        self._pending_histograms: list[tuple[tuple, torch.Tensor, torch.Tensor]] = []
        self.samples: list[DiagnosticsSample] = []  # every event reported, in order
        self.histograms: list[DiagnosticsHistogram] = []

    def wants(self, step: int, last_of_epoch: bool) -> bool:
        return last_of_epoch or step % self.every == 0

    # -- one sampled step ------------------------------------------------------------------------

    def begin(self) -> None:
        """Watch the next forward pass (hooks removed again by :meth:`after_step`)."""
        self._seen = {}
        for name, (_, activation) in self.modules.items():
            self._hooks.append(activation.register_forward_hook(self._recorder(name)))

    def _recorder(self, name: str):
        def record(module, inputs, output):
            output = output.detach()
            # The output layer has no activation: its "pre-activations" are the logits.
            self._seen[name] = (output if name == "logits" else inputs[0].detach(), output)
        return record

    def _remove_hooks(self) -> None:
        for hook in self._hooks:
            hook.remove()
        self._hooks = []

    @torch.no_grad()
    def before_step(self) -> None:
        """After backward, before the optimizer's step: the gradients, and the weights as they are."""
        self._remove_hooks()
        grad_norms = []
        for name, (weights, _) in self.modules.items():
            params = list(weights.parameters())
            self._before[name] = [p.detach().clone() for p in params]
            grads = [p.grad for p in params if p.grad is not None]
            grad_norms.append(_norm(grads) if grads else params[0].new_zeros(()))
        self._grad_norms = torch.stack(grad_norms)

    @torch.no_grad()
    def after_step(self, epoch: int, batch: int, batches: int, step: int, histograms: bool) -> None:
        rows = []
        for i, (name, (weights, _)) in enumerate(self.modules.items()):
            params = [p.detach() for p in weights.parameters()]
            before = self._before[name]
            weight_norm = _norm(params)
            update = _norm([p - b for p, b in zip(params, before)])
            ratio = update / _norm(before)
            inactive = self._inactive(name, weight_norm)
            rows.append(torch.stack([self._grad_norms[i], weight_norm, ratio, inactive]))
        where = (epoch, batch, batches, step)
        self._pending.append((where, torch.stack(rows)))
        if histograms:
            self._pending_histograms.append((where, *self._histograms()))
        self._seen, self._before, self._grad_norms = {}, {}, None

    def _inactive(self, name: str, like: torch.Tensor) -> torch.Tensor:
        seen = self._seen.get(name)
        if name == "logits" or seen is None:
            return torch.full_like(like, math.nan)
        activations = seen[1]
        if self.activation == "sigmoid":
            return saturated_share(activations, self.threshold)
        return dead_share(activations)

    def _histograms(self) -> tuple[torch.Tensor, torch.Tensor]:
        pre, grads = [], []
        for name, (weights, _) in self.modules.items():
            seen = self._seen.get(name)
            params = list(weights.parameters())
            device = params[0].device
            pre.append(_histogram(seen[0], *PRE_ACTIVATION_RANGE, PRE_ACTIVATION_BINS) if seen is not None
                       else torch.zeros(PRE_ACTIVATION_BINS, device=device))
            flat = [p.grad.reshape(-1) for p in params if p.grad is not None]
            grads.append(_histogram(torch.cat(flat).abs().log10(), *LOG_GRADIENT_RANGE, LOG_GRADIENT_BINS) if flat
                         else torch.zeros(LOG_GRADIENT_BINS, device=device))
        return torch.stack(pre), torch.stack(grads)

    def abandon_step(self) -> None:
        """A sampled step that did not reach its optimizer step (it failed): no hooks stay."""
        self._remove_hooks()
        self._seen, self._before, self._grad_norms = {}, {}, None

    # -- reading back ----------------------------------------------------------------------------

    def take(self) -> tuple[tuple[list, list], torch.Tensor | None]:
        """The figures gathered since the last take, as one flat tensor (so that they come back
        from the device in the transfer that brings the batches' losses back), and what
        :meth:`events` needs to read them."""
        samples, histograms = self._pending, self._pending_histograms
        self._pending, self._pending_histograms = [], []
        parts = [figures.reshape(-1) for _, figures in samples]
        parts += [t.reshape(-1) for _, pre, grads in histograms for t in (pre, grads)]
        layout = ([where for where, _ in samples], [where for where, _, _ in histograms])
        return layout, torch.cat(parts) if parts else None

    def events(self, layout: tuple[list, list], values: list[float]) -> list[DiagnosticsSample | DiagnosticsHistogram]:
        """The events of figures :meth:`take` handed out, from their values read back; they are
        also kept in :attr:`samples` and :attr:`histograms`."""
        sample_places, histogram_places = layout
        names = list(self.modules)
        per_sample = len(names) * len(FIGURES)
        events: list = []
        at = 0
        for epoch, batch, batches, step in sample_places:
            rows = values[at:at + per_sample]
            at += per_sample
            layers = {}
            for i, name in enumerate(names):
                grad_norm, weight_norm, ratio, inactive = rows[i * len(FIGURES):(i + 1) * len(FIGURES)]
                layers[name] = LayerFigures(grad_norm=grad_norm, weight_norm=weight_norm, update_ratio=ratio,
                                            inactive=None if math.isnan(inactive) else inactive)
            sample = DiagnosticsSample(epoch=epoch, batch=batch, batches=batches, step=step,
                                       activation=self.activation, layers=layers)
            self.samples.append(sample)
            events.append(sample)
        for epoch, _, _, step in histogram_places:
            pre = {}
            for name in names:
                pre[name] = Histogram(PRE_ACTIVATION_EDGES, tuple(int(c) for c in values[at:at + PRE_ACTIVATION_BINS]))
                at += PRE_ACTIVATION_BINS
            grads = {}
            for name in names:
                grads[name] = Histogram(LOG_GRADIENT_EDGES, tuple(int(c) for c in values[at:at + LOG_GRADIENT_BINS]))
                at += LOG_GRADIENT_BINS
            histogram = DiagnosticsHistogram(epoch=epoch, step=step, activation=self.activation,
                                             pre_activations=pre, log_gradients=grads)
            self.histograms.append(histogram)
            events.append(histogram)
        return events
