"""LeNet, in the shape every variant shares, with a forward that can return each layer's output.

    conv 1->6 5x5 -> pool 2x2 -> conv 6->16 5x5 -> pool 2x2 -> flatten 256 -> fc 120 -> fc 84 -> fc 10

The variants differ only in the activation, the pooling, batch norm and dropout. The model
takes images scaled to [0, 1]; input normalisation, if any, is part of the model (a buffer), so
a checkpoint alone says how to feed it.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import asdict, dataclass, fields

import torch
from torch import nn

from .fast_layers import conv2d_mixed_layouts, conv_max_pool2x2, linear_on_channels_last

# The layers a user reads, in the order data flows, with the shape of one sample's output.
LAYER_SHAPES: "OrderedDict[str, tuple[int, ...]]" = OrderedDict(
    [
        ("conv1", (6, 24, 24)),
        ("pool1", (6, 12, 12)),
        ("conv2", (16, 8, 8)),
        ("pool2", (16, 4, 4)),
        ("fc1", (120,)),
        ("fc2", (84,)),
        ("logits", (10,)),
    ]
)
LAYER_NAMES = tuple(LAYER_SHAPES)


@dataclass(frozen=True)
class ModelConfig:
    activation: str = "sigmoid"  # "sigmoid" | "relu"
    pool: str = "max"  # "max" | "avg"
    batch_norm: bool = False
    dropout: float = 0.0
    input_mean: float = 0.0  # normalisation applied inside the model
    input_std: float = 1.0
    num_classes: int = 10

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "ModelConfig":
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown model settings: {', '.join(sorted(unknown))}")
        config = cls(**data)
        config.validate()
        return config

    def validate(self) -> None:
        if self.activation not in ACTIVATIONS:
            raise ValueError(f"unknown activation {self.activation!r}")
        if self.pool not in POOLS:
            raise ValueError(f"unknown pooling {self.pool!r}")
        if not 0.0 <= float(self.dropout) < 1.0:
            raise ValueError(f"dropout must be in [0, 1), not {self.dropout}")
        if not float(self.input_std) > 0:
            raise ValueError("input_std must be positive")
        if int(self.num_classes) != 10:
            raise ValueError("LeNet Studio models have 10 classes")


ACTIVATIONS = {"sigmoid": nn.Sigmoid, "relu": nn.ReLU}
POOLS = {"max": nn.MaxPool2d, "avg": nn.AvgPool2d}


class LeNet(nn.Module):
    def __init__(self, config: ModelConfig | None = None):
        super().__init__()
        self.config = config = config or ModelConfig()
        config.validate()
        act, pool, bn = ACTIVATIONS[config.activation], POOLS[config.pool], config.batch_norm
        self.register_buffer("input_mean", torch.tensor(float(config.input_mean)))
        self.register_buffer("input_std", torch.tensor(float(config.input_std)))
        # Batch norm makes the preceding bias redundant.
        self.conv1 = nn.Conv2d(1, 6, 5, bias=not bn)
        self.bn1 = nn.BatchNorm2d(6) if bn else nn.Identity()
        self.act1 = act()
        self.pool1 = pool(2, 2)
        self.conv2 = nn.Conv2d(6, 16, 5, bias=not bn)
        self.bn2 = nn.BatchNorm2d(16) if bn else nn.Identity()
        self.act2 = act()
        self.pool2 = pool(2, 2)
        self.fc1 = nn.Linear(16 * 4 * 4, 120, bias=not bn)
        self.bn3 = nn.BatchNorm1d(120) if bn else nn.Identity()
        self.act3 = act()
        self.drop1 = nn.Dropout(config.dropout) if config.dropout else nn.Identity()
        self.fc2 = nn.Linear(120, 84, bias=not bn)
        self.bn4 = nn.BatchNorm1d(84) if bn else nn.Identity()
        self.act4 = act()
        self.drop2 = nn.Dropout(config.dropout) if config.dropout else nn.Identity()
        self.fc3 = nn.Linear(84, config.num_classes)

    def _stages(self):
        """(name, function) in data-flow order; the names are those of LAYER_SHAPES."""
        return (
            ("conv1", lambda x: self.act1(self.bn1(self.conv1((x - self.input_mean) / self.input_std)))),
            ("pool1", self.pool1),
            ("conv2", lambda x: self.act2(self.bn2(self.conv2(x)))),
            ("pool2", self.pool2),
            ("fc1", lambda x: self.drop1(self.act3(self.bn3(self.fc1(torch.flatten(x, 1)))))),
            ("fc2", lambda x: self.drop2(self.act4(self.bn4(self.fc2(x))))),
            ("logits", self.fc3),
        )

    def forward(self, x: torch.Tensor, return_activations: bool = False):
        """``x``: N x 1 x 28 x 28 in [0, 1]. Returns logits, or ``(logits, activations)`` where
        activations maps each name of LAYER_NAMES to that layer's output (after its activation)."""
        if not return_activations:
            # Only while training, where the speed matters: in eval mode, module hooks, tracing
            # (ONNX and torch.export) and anyone reading the code see the textbook order. Batch
            # evaluation asks for fast_logits() itself.
            if self.training:
                return self.fast_logits(x)
            for _, stage in self._stages():
                x = stage(x)
            return x
        activations: "OrderedDict[str, torch.Tensor]" = OrderedDict()
        for name, stage in self._stages():
            x = stage(x)
            activations[name] = x
        return x, activations

    def fast_logits(self, x: torch.Tensor) -> torch.Tensor:
        """The logits forward() gives, by the fastest route on x's device (in this mode: batch
        norm and dropout behave as set by train()/eval()). The layers do not run one by one, so
        module hooks do not see them."""
        if self.has_fast_cpu_path:  # max-pooling
            if x.device.type == "cpu":
                return self._forward_fast_cpu(x)
            return self._forward_pooling_first(x)
        for _, stage in self._stages():
            x = stage(x)
        return x

    def _forward_pooling_first(self, x: torch.Tensor) -> torch.Tensor:
        # Max-pooling commutes with a non-decreasing activation (sigmoid, ReLU): pooling first
        # gives the same outputs with the activation, forward and backward, on a quarter of the
        # values (training measured about 1.2x faster on a 2-core CPU). Gradients differ only
        # where a pooling window holds equal values, where either choice is a valid subgradient.
        x = self.conv1((x - self.input_mean) / self.input_std)
        x = self.act1(self.pool1(self.bn1(x)))
        x = self.act2(self.pool2(self.bn2(self.conv2(x))))
        x = self.drop1(self.act3(self.bn3(self.fc1(torch.flatten(x, 1)))))
        x = self.drop2(self.act4(self.bn4(self.fc2(x))))
        return self.fc3(x)

    @property
    def has_fast_cpu_path(self) -> bool:
        """Whether fast_logits() runs _forward_fast_cpu on the CPU: for max-pooling."""
        return self.config.pool == "max"

    def _forward_fast_cpu(self, x: torch.Tensor) -> torch.Tensor:
        # The same network as _forward_pooling_first, with each convolution + pooling stage on
        # kernels that suit LeNet's tiny shapes (see fast_layers), which choose their own
        # memory layouts. Batch norm (an identity without it) comes before each pooling.
        if float(self.input_mean) != 0.0 or float(self.input_std) != 1.0:  # two passes saved if not
            x = (x - self.input_mean) / self.input_std
        x = self.act1(conv_max_pool2x2(x, self.conv1.weight, self.conv1.bias, self.bn1))
        x = self.act2(self.pool2(self.bn2(conv2d_mixed_layouts(x, self.conv2.weight, self.conv2.bias))))
        x = self.drop1(self.act3(self.bn3(linear_on_channels_last(x, self.fc1.weight, self.fc1.bias))))
        x = self.drop2(self.act4(self.bn4(self.fc2(x))))
        return self.fc3(x)

    def parameter_count(self) -> int:
        return sum(p.numel() for p in self.parameters())


def build_model(config: ModelConfig | dict | None = None) -> LeNet:
    if isinstance(config, dict):
        config = ModelConfig.from_dict(config)
    return LeNet(config)


def memory_format_of(model: LeNet) -> torch.memory_format:
    """The layout the model's convolutions are in (the trainer may switch it to channels-last)."""
    # conv2's weight (16 x 6 x 5 x 5) tells the layouts apart; conv1's single channel does not.
    weight = model.conv2.weight
    if weight.is_contiguous(memory_format=torch.channels_last) and not weight.is_contiguous():
        return torch.channels_last
    return torch.contiguous_format
