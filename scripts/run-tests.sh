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
# One worker per core, up to four: the tests are mostly single-threaded, and on two cores two
# workers take little over half the time of one. `-n 0` (or any -n) after it overrides.
workers=$(.venv/bin/python -c "import os; print(max(1, min(4, len(os.sched_getaffinity(0)) if hasattr(os, 'sched_getaffinity') else os.cpu_count() or 1)))")
# Each worker's torch then runs on one thread (the tests that set threads themselves still do):
# two workers each waking a pool of threads per core would take turns on the cores at every
# operation. Work-stealing keeps both busy until the end, whatever the order of the slow tests.
if [ "$workers" -gt 1 ]; then
    export OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}"
fi
exec .venv/bin/python -m pytest -q -n "$workers" --dist worksteal "$@"
