#!/usr/bin/env bash
# Sets up on first use, then opens LeNet Studio. Arguments go to `lenet-gui`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/lenet-gui "$@"
