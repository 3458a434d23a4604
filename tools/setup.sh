#!/bin/sh
# Set up what the report and the tests need, installing only what is missing:
#   1. system packages (Debian/Ubuntu as root): Fashion-MNIST, XeLaTeX and pandoc for the PDF;
#      elsewhere it prints what to install and carries on;
#   2. a virtual environment .venv with the pinned requirements.txt and requirements-dev.txt
#      (ruff, for `make test`);
#   3. the data under data/, verified (helpers.load_fashion_mnist).
# Running it again installs nothing new.
set -eu
cd "$(dirname "$0")/.."

VENV=.venv
LATEX_PACKAGES="texlive-xetex texlive-fonts-recommended texlive-plain-generic pandoc"
DATA_PACKAGE="dataset-fashion-mnist"

say() { printf 'setup: %s\n' "$*"; }

# Python 3.11 to 3.13: the pinned numpy, scipy, matplotlib and scikit-learn have no builds for
# older versions. $PYTHON if set, else the first supported one of these commands.
supported() {
    "$1" -c 'import sys; sys.exit(not (3, 11) <= sys.version_info[:2] <= (3, 13))' >/dev/null 2>&1
}
found=""
for candidate in ${PYTHON:-python3 python3.13 python3.12 python3.11}; do
    if supported "$candidate"; then found=$candidate; break; fi
done
if [ -z "$found" ]; then
    say "this project needs Python 3.11, 3.12 or 3.13; ${PYTHON:-python3} is" \
        "$("${PYTHON:-python3}" --version 2>&1 || echo 'not found')"
    say "install one of them (python.org, pyenv, Homebrew or your package manager) and run" \
        "again, or name it: PYTHON=/path/to/python3.12 make test"
    exit 1
fi
PYTHON=$found
if [ -x "$VENV/bin/python" ] && ! supported "$VENV/bin/python"; then
    say "$VENV was made with $("$VENV/bin/python" --version 2>&1), which is not supported:" \
        "remove the folder $VENV and run again"
    exit 1
fi

# Debian packages that are still needed, judged by what is actually available.
missing_packages() {
    if ! command -v xelatex >/dev/null 2>&1 || ! command -v pandoc >/dev/null 2>&1; then
        echo "$LATEX_PACKAGES"
    fi
    if [ ! -f data/FashionMNIST/raw/t10k-labels-idx1-ubyte ] && [ -z "${FASHION_MNIST_DIR:-}" ] \
        && [ ! -d /usr/share/datasets/fashion-mnist ]; then
        echo "$DATA_PACKAGE"
    fi
    if ! "$PYTHON" -c "import ensurepip, venv" >/dev/null 2>&1; then
        echo "python3-venv"
    fi
}

packages=$(missing_packages | tr '\n' ' ' | sed 's/ *$//')
if [ -n "$packages" ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        say "installing Debian packages: $packages"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq
        # shellcheck disable=SC2086
        apt-get install -y -qq --no-install-recommends $packages >/dev/null
    else
        say "please install: $packages"
        say "  Debian/Ubuntu: sudo apt-get install --no-install-recommends $packages"
        say "  macOS: brew install pandoc && brew install --cask mactex-no-gui"
        case "$packages" in *"$DATA_PACKAGE"*)
            say "  Fashion-MNIST without the Debian package: set FASHION_MNIST_DIR or go online";;
        esac
        say "carrying on: the PDF export needs XeLaTeX and pandoc, everything else does not"
    fi
else
    say "system packages: nothing to install"
fi

if [ ! -x "$VENV/bin/python" ]; then
    say "creating the virtual environment $VENV"
    "$PYTHON" -m venv "$VENV"
fi
stamp="$VENV/.requirements.sha256"
wanted=$("$VENV/bin/python" -c "import hashlib; print(hashlib.sha256(open('requirements.txt','rb').read() + open('requirements-dev.txt','rb').read()).hexdigest())")
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$wanted" ]; then
    say "installing requirements.txt and requirements-dev.txt into $VENV (PyTorch is large: a few minutes)"
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r requirements.txt \
        -r requirements-dev.txt
    echo "$wanted" > "$stamp"
else
    say "Python packages: nothing to install"
fi

"$VENV/bin/python" -c "import helpers; helpers.load_fashion_mnist('data'); print('setup: data: Fashion-MNIST verified under data/')"
