"""LeNet Studio: train LeNet on MNIST and Fashion-MNIST, classify your own inputs, look inside."""

__version__ = "0.1.0"  # the one place it is written: pyproject.toml reads it from here


def app_version() -> str:
    """The version of the installed distribution (what pip and pipx list), or ``__version__``
    when the package runs from a source tree that was never installed."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("lenet-gui")
    except PackageNotFoundError:
        return __version__
