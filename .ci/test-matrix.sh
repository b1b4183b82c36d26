#!/usr/bin/env bash
# Run the test suite on each requested Python version that pyenv provides.
# Usage: .ci/test-matrix.sh 3.10 3.11 ...   (a version pyenv lacks is reported, not hidden)
set -euo pipefail
cd "$(dirname "$0")/.."
status=0
for minor in "$@"; do
    full=$(pyenv versions --bare 2>/dev/null | grep -E "^${minor//./\\.}(\.[0-9]+)?$" | sort -V | tail -n 1 || true)
    if [ -z "$full" ]; then
        echo "== Python $minor: not provided by pyenv on this machine, not tested"
        continue
    fi
    venv=".venv-$minor"
    echo "== Python $full ($venv)"
    if [ ! -x "$venv/bin/python" ]; then
        PYENV_VERSION="$full" python -m venv "$venv"
    fi
    "$venv/bin/python" -m pip --disable-pip-version-check -q install -r requirements/test.txt \
        -c requirements/constraints.txt -e .
    if ! "$venv/bin/python" -m pytest -q -p no:cacheprovider; then
        status=1
    fi
done
exit $status
