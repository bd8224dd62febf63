#!/usr/bin/env bash
# Sets up on first use, then runs the whole test suite offscreen. Arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export QT_QPA_PLATFORM=offscreen
# The real data sets sit beside the checkout on development and CI machines.
if [ -z "${LENET_DATA_ROOT:-}" ] && [ -d ../shared/datasets ]; then
    export LENET_DATA_ROOT="$(cd ../shared/datasets && pwd)"
fi
# The layering (contracts in pyproject.toml): core without Qt, tabs independent, widgets below them.
.venv/bin/lint-imports --no-cache
exec .venv/bin/python -m pytest -q "$@"
