#!/usr/bin/env bash
# Creates .venv beside this repository and installs LeNet Studio with its test extras into it.
# Safe to run again: it only installs what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
    "$PYTHON" -m venv .venv
fi
stamp=.venv/.lenet-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
    .venv/bin/python -m pip install --quiet --upgrade pip
    # torch first and pinned, so that pip takes the release the machine has on disk when it has one.
    .venv/bin/python -m pip install --quiet "torch==2.14.1" "torchvision==0.29.1" \
        || .venv/bin/python -m pip install --quiet "torch>=2.2,<3" "torchvision>=0.17,<1"
    .venv/bin/python -m pip install --quiet -e ".[test]"
    touch "$stamp"
fi
