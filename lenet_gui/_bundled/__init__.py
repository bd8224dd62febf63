"""The files that ship inside the package, read by :mod:`lenet_gui.core.resources`.

The repository keeps them in its top-level folders; the build maps those into this package
(``package-dir`` in pyproject.toml), so a wheel, an sdist and anything installed from them hold
them here::

    checkpoints/       ->  lenet_gui._bundled.checkpoints     the pretrained models
    assets/            ->  lenet_gui._bundled.assets          the icon
    assets/samples/    ->  lenet_gui._bundled.assets.samples  the sample inputs

A source checkout that has not been built (the test suite, ``python -m lenet_gui`` from a
clone, an editable install, whose import hook does not map packages below a plain one) has no
such folders here. Its root then joins this package's search path, so that the same imports
find the same files there; an installed copy never looks outside itself.
"""

from pathlib import Path

_here = Path(__file__).resolve().parent
_checkout = _here.parents[1]
if (
    not (_here / "checkpoints").is_dir()
    and (_checkout / "pyproject.toml").is_file()
    and (_checkout / "checkpoints").is_dir()
):
    __path__.append(str(_checkout))  # noqa: F821 (a package's own __path__)
