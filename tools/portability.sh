#!/bin/sh
# make portability: the unpacked ZIP's check, as its README gives it (`python -m pytest --nbval
# exercise9.ipynb`: the notebook run top to bottom under nbval, minutes), on each of Python 3.12
# and 3.13 found here, with all of:
#   * a user who is not root ($PORTABILITY_USER, default portability), with umask 077;
#   * no LaTeX on PATH (a private bin folder without xelatex, pandoc and the other TeX tools);
#   * no Debian data package (an empty tmpfs over /usr/share/datasets; FASHION_MNIST_DIR names
#     a readable copy of the four files);
#   * no network (a network namespace with only loopback up: the kernel talks over 127.0.0.1).
# Linux, as root (useradd, unshare, mount). Before going offline each Python gets a virtual
# environment build/portability/venv-X.Y-HASH (HASH: the pins of the ZIP's requirements.txt; 3.6 GB,
# PyTorch), reused by later runs; pyenv's Pythons are copied to /opt/portability first, since
# the other user cannot enter /root. Not part of `make test`.
# Usage: sh tools/portability.sh [ZIP]    ZIP defaults to dist/exercise9.zip (`make report`);
#        PYTHONS="3.12 3.13" picks the versions, KEEP=1 keeps the unpacked folders,
#        PORTABILITY_TIME_LIMIT (default 3600) stops one Python's tests after so many seconds.
set -eu
cd "$(dirname "$0")/.."

ROOT=$(pwd)
ZIP=${1:-dist/exercise9.zip}
PYTHONS=${PYTHONS:-3.12 3.13}
RUN_USER=${PORTABILITY_USER:-portability}
TIME_LIMIT=${PORTABILITY_TIME_LIMIT:-3600}  # seconds for one Python's tests (a hung kernel)
CACHE=$ROOT/build/portability
COPIES=/opt/portability
DATASETS=/usr/share/datasets  # Debian's dataset-fashion-mnist lives in fashion-mnist/ below it
DATA_FILES="train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte
t10k-labels-idx1-ubyte"

say() { printf 'portability: %s\n' "$*"; }
fail() { say "$*" >&2; exit 2; }

# --- checks and shared set-up ------------------------------------------------------------------

[ "$(uname -s)" = Linux ] || fail "needs Linux (user and network namespaces)"
[ "$(id -u)" = 0 ] || fail "needs root: it adds a user and uses unshare and mount"
for tool in unshare runuser ip useradd; do
    command -v "$tool" >/dev/null 2>&1 || fail "needs $tool (util-linux, iproute2, passwd)"
done
[ -f "$ZIP" ] || fail "$ZIP is missing: run \`make report\` first (it builds dist/exercise9.zip)"
ZIP=$(cd "$(dirname "$ZIP")" && pwd)/$(basename "$ZIP")

say "ZIP: $ZIP"
umask 022  # everything made here must be readable by the other user
mkdir -p "$CACHE"
id "$RUN_USER" >/dev/null 2>&1 || { say "adding the user $RUN_USER"; useradd --user-group \
    --no-create-home --home-dir /nonexistent --shell /bin/sh "$RUN_USER"; }
runuser -u "$RUN_USER" -- test -r "$CACHE" -a -x "$CACHE" \
    || fail "$RUN_USER cannot enter $CACHE: give its parent folders o+x, or clone elsewhere"

# A readable copy of the data: the checkout's verified files, else $FASHION_MNIST_DIR, else Debian's.
copy_data() {
    target=$CACHE/fashion-mnist
    mkdir -p "$target"
    for name in $DATA_FILES; do
        [ -f "$target/$name" ] || [ -f "$target/$name.gz" ] && continue
        found=
        for folder in "$ROOT/data/FashionMNIST/raw" "${FASHION_MNIST_DIR:-/nonexistent}" \
                      "$DATASETS/fashion-mnist"; do
            for file in "$folder/$name.gz" "$folder/$name"; do
                [ -z "$found" ] && [ -f "$file" ] && found=$file
            done
        done
        [ -n "$found" ] || fail "Fashion-MNIST's $name not found: run \`make setup\` first"
        cp "$found" "$target/"
    done
    chmod -R a+rX "$target"
}

# A bin folder with links to every program on the usual PATH except LaTeX's and pandoc.
make_bin_without_latex() {
    bin=$CACHE/bin-without-latex
    rm -rf "$bin" && mkdir -p "$bin"
    for folder in /usr/local/sbin /usr/local/bin /usr/sbin /usr/bin /sbin /bin; do
        for program in "$folder"/*; do
            name=${program##*/}
            case "$name" in
                *tex*|*TeX*|*pandoc*|kpse*|dvi*|xdv*|fmtutil*|updmap*|tlmgr|makeindex)
                    continue;;
            esac
            [ -x "$program" ] && [ ! -d "$program" ] && [ ! -e "$bin/$name" ] \
                && ln -s "$program" "$bin/$name"
        done
    done
    for tool in xelatex pandoc; do
        ! PATH=$bin command -v "$tool" >/dev/null 2>&1 || fail "$tool is still on the test PATH"
    done
}

# Print the path of a Python X.Y: pyenv's newest X.Y.*, else pythonX.Y on PATH; nothing if none.
find_python() {
    pyenv_root=${PYENV_ROOT:-$HOME/.pyenv}
    newest=$(printf '%s\n' "$pyenv_root/versions/$1".[0-9]* | sort -V | tail -n 1)
    if [ -n "$newest" ] && [ -x "$newest/bin/python$1" ]; then
        echo "$newest/bin/python$1"
    else
        command -v "python$1" 2>/dev/null || true
    fi
}

# Print a Python the other user can run: pyenv's copied to /opt/portability/python-X.Y, its run
# path set to the copy's lib/ (patchelf); a Python outside root's home as it is.
readable_python() {
    version=$1 python=$2
    if runuser -u "$RUN_USER" -- "$python" -c pass >/dev/null 2>&1; then
        echo "$python"; return
    fi
    prefix=$(dirname "$(dirname "$python")") copy=$COPIES/python-$version
    if [ "$(cat "$copy/.copied-from" 2>/dev/null)" != "$prefix" ]; then
        command -v patchelf >/dev/null 2>&1 || apt-get install -y -qq patchelf >/dev/null \
            || fail "needs patchelf to copy $prefix (apt-get install patchelf)"
        say "copying $prefix to $copy" >&2
        mkdir -p "$COPIES" && rm -rf "$copy" "$copy.partial"
        cp -a "$prefix" "$copy.partial"
        if [ -e "$prefix/lib/libpython$version.so.1.0" ]; then
            patchelf --set-rpath "$copy/lib" "$copy.partial/bin/python$version"
        fi
        chmod -R a+rX "$copy.partial"
        echo "$prefix" > "$copy.partial/.copied-from"
        mv "$copy.partial" "$copy"
    fi
    echo "$copy/bin/python$version"
}

# Print the virtual environment for Python X.Y and the ZIP's requirements, made (online) if missing.
virtual_environment() {
    version=$1 python=$2
    requirements=$CACHE/requirements-$version.txt
    "$python" -c "import sys, zipfile; sys.stdout.buffer.write(
        zipfile.ZipFile(sys.argv[1]).read('exercise9/requirements.txt'))" "$ZIP" > "$requirements"
    hash=$(grep -v "^#" "$requirements" | sha256sum | cut -c1-12)  # the pins, not the comments
    venv=$CACHE/venv-$version-$hash log=$CACHE/install-$version.log
    if [ ! -f "$venv/.complete" ]; then
        say "installing requirements.txt for Python $version into $venv" \
            "(about 3 GB, PyTorch; minutes; log: $log)" >&2
        rm -rf "$venv"
        { "$python" -m venv "$venv" && "$venv/bin/python" -m pip install -r "$requirements"; } \
            > "$log" 2>&1 || fail "installing for Python $version failed: see $log"
        chmod -R a+rX "$venv"
        touch "$venv/.complete"
    fi
    for old in "$CACHE/venv-$version"-*; do  # environments of earlier requirements
        [ "$old" = "$venv" ] || rm -rf "$old"
    done
    echo "$venv"
}

# Unpack the ZIP as the other user and run its check offline; the log goes to $2.
run_tests() {
    venv=$1 log=$2
    work=$(mktemp -d /tmp/portability.XXXXXX)
    cp "$ZIP" "$work/exercise9.zip"
    chown -R "$RUN_USER:" "$work"
    chmod 700 "$work"
    status=0
    # shellcheck disable=SC2016  # expanded by the inner shells
    timeout --kill-after=60 "$TIME_LIMIT" unshare --mount --net sh -c '
        set -eu
        ip link set lo up
        [ -z "$(ip route show)" ] || { echo "portability: the namespace has a route out"; exit 2; }
        if [ -d "$5" ]; then mount -t tmpfs -o mode=755,size=1m portability "$5"; fi
        [ ! -e "$5/fashion-mnist" ] || { echo "portability: Debian data still visible"; exit 2; }
        exec runuser -u "$1" -- env -i HOME="$2/home" LANG=C.UTF-8 PATH="$3/bin:$4" \
            VIRTUAL_ENV="$3" FASHION_MNIST_DIR="$6" COLUMNS=200 /bin/sh -c "
            umask 077 && cd \"$2\" && mkdir home && python -m zipfile -e exercise9.zip . \
            && cd exercise9 && echo \"umask \$(umask), user \$(id -un), \$(python --version)\" \
            && python -m pytest --nbval exercise9.ipynb -rfEs"
        ' portability "$RUN_USER" "$work" "$venv" "$CACHE/bin-without-latex" "$DATASETS" \
        "$CACHE/fashion-mnist" > "$log" 2>&1 || status=$?
    if [ "${KEEP:-}" = 1 ]; then say "kept $work"; else rm -rf "$work"; fi
    return "$status"
}

# One line from pytest's last line: counts and seconds, or what went wrong.
summary() {
    line=$(grep -E '^=+ .* in [0-9.]+s' "$1" | tail -n 1 | sed -E 's/^=+ //; s/ =+$//')
    echo "${line:-no pytest summary (see the log)}"
}

# --- the runs ------------------------------------------------------------------------------------

start=$(date +%s)
copy_data
make_bin_without_latex
results='' failed=0 ran=0
for version in $PYTHONS; do
    found=$(find_python "$version")
    if [ -z "$found" ]; then
        say "Python $version: not found (pyenv or python$version on PATH), skipped"
        results="$results
  Python $version: skipped, not found"
        continue
    fi
    python=$(readable_python "$version" "$found")
    venv=$(virtual_environment "$version" "$python")
    log=$CACHE/test-$version.log
    say "Python $version ($("$python" --version 2>&1)): the unpacked ZIP's check" \
        "as $RUN_USER, umask 077, no LaTeX, no Debian data, offline (log: $log)"
    began=$(date +%s)
    status=0
    run_tests "$venv" "$log" || status=$?
    seconds=$(( $(date +%s) - began ))
    ran=$((ran + 1))
    outcome=passed
    [ "$status" = 0 ] || { outcome="FAILED (exit $status)"; failed=$((failed + 1)); }
    [ "$status" != 124 ] || outcome="FAILED (stopped after $TIME_LIMIT s)"
    grep -E '^(FAILED|ERROR) ' "$log" | sed 's/^/    /' || true
    results="$results
  Python $version: $outcome: $(summary "$log"); $seconds s in all (log: $log)"
done

say "summary, $(( $(date +%s) - start )) s in all:$results"
[ "$ran" -gt 0 ] || { say "no Python of $PYTHONS found: nothing was checked"; exit 1; }
[ "$failed" = 0 ] || exit 1
