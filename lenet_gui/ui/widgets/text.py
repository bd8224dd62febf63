"""Filling translated sentences: Qt's ``%1``…``%9`` placeholders, the one way this app uses.

Translators see whole sentences with numbered places (``tr("Saved %1")``), which they may
reorder; plurals go through ``tr(text, "", n)`` with ``%n``. Values are put in all at once, so
a value that itself contains ``%2`` is never filled again.
"""

from __future__ import annotations

import re

_PLACE = re.compile(r"%([1-9])")


def fill(template: str, *values) -> str:
    """``fill(tr("Epoch %1/%2"), 3, 5)`` -> ``"Epoch 3/5"``; a place without a value stays."""

    def value(match: re.Match) -> str:
        index = int(match.group(1)) - 1
        return str(values[index]) if index < len(values) else match.group(0)

    return _PLACE.sub(value, template)
