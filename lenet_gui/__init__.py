"""LeNet Studio: train LeNet on MNIST and Fashion-MNIST, classify your own inputs, look inside."""

__version__ = "0.1.0"
