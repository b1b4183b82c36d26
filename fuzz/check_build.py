"""Build the fuzzers with .clusterfuzzlite/build.sh as ClusterFuzzLite and
OSS-Fuzz call it, without Docker, then run each built fuzzer briefly.

    python fuzz/check_build.py [--seconds 12] [--keep DIR]

What the engines do, and what stands in for it here:

* the image (gcr.io/oss-fuzz-base/base-builder-python) has the checkout in
  ``$SRC/wsframe`` (the Dockerfile's ``COPY . $SRC/wsframe``) and build.sh
  in ``$SRC``: here a scratch directory holds a copy of the files git
  tracks or would track, and build.sh is copied the same way, unchanged;
* the image's python3 and pip3: a scratch venv (build.sh's ``pip3 install .``
  installs wsframe there, never into the dev venv); atheris is the dev
  venv's (``make .venv/.fuzz``), made visible to the scratch venv by a
  ``.pth`` file, since the image ships atheris preinstalled;
* ``compile_python_fuzzer`` (PyInstaller in the image): a stand-in that
  copies the fuzzer with the modules beside it (what PyInstaller bundles
  of fuzz/) into a work directory, writes ``$OUT/<name>.pkg`` (not
  executable, like the real one) and the executable wrapper
  ``$OUT/<name>`` that names LLVMFuzzerTestOneInput (how the engines
  detect fuzz targets);
* build.sh runs with ``bash -eu`` in ``$SRC/wsframe`` with SRC, OUT, WORK,
  SANITIZER, FUZZING_ENGINE and FUZZING_LANGUAGE set as the engines set them.

Before that it checks that the Dockerfiles (.clusterfuzzlite/, fuzz/oss-fuzz/)
lay out ``$SRC`` this way and that both project.yaml files say python. Then
it checks ``$OUT`` as the engines read it (one executable fuzzer per
fuzz/fuzz_*.py, its ``_seed_corpus.zip`` and ``.dict``, the dictionary in
libFuzzer's syntax) and runs each fuzzer the way a fuzzing job does: seeds
unpacked into a corpus directory, ``-dict``, a fixed ``-seed``, for a few
seconds. Any crash (an input that breaks the harness's contract) fails the
check; its input is copied to fuzz/crashes/ to be kept as a regression.

Not covered here (it needs the image): PyInstaller's packing, the
sanitizer library the real wrapper preloads, the engines' bad-build check.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

#: The stand-in for the image's compile_python_fuzzer (see the module documentation).
COMPILE_PYTHON_FUZZER = """#!/bin/bash -eu
# Stand-in for base-builder-python's compile_python_fuzzer (fuzz/check_build.py):
# the real one packs the fuzzer with PyInstaller into $OUT/<name>.pkg.
fuzzer_path=$1
shift 1
name=$(basename -s .py "$fuzzer_path")
bundle="$WORK/pyfuzzworkdir/$name"
rm -rf "$bundle" && mkdir -p "$bundle"
cp "$(dirname "$fuzzer_path")"/*.py "$bundle/"
printf '#!/bin/sh\\nexec "%s" "%s" "$@"\\n' "$(command -v python3)" "$bundle/$name.py" \\
  > "$OUT/$name.pkg"
chmod -x "$OUT/$name.pkg"
printf '#!/bin/sh\\n# LLVMFuzzerTestOneInput for fuzzer detection.\\nthis_dir=$(dirname "$0")\\n'\\
'exec sh "$this_dir/%s.pkg" "$@"\\n' "$name" > "$OUT/$name"
chmod +x "$OUT/$name"
echo "$name $*" >> "$WORK/compiled.txt"
"""

#: One libFuzzer dictionary entry: an optional name, then a quoted token.
DICT_LINE = re.compile(r'^(?:[A-Za-z0-9_]+=)?"(?:[^"\\]|\\\\|\\"|\\x[0-9A-Fa-f]{2})+"$')


#: What this check assumes of the engines' files; it stops if they say otherwise.
DOCKERFILE_LINES = ("FROM gcr.io/oss-fuzz-base/base-builder-python",
                    "COPY . $SRC/wsframe", "WORKDIR $SRC/wsframe",
                    "COPY .clusterfuzzlite/build.sh $SRC/")
OSS_FUZZ_LINES = ("FROM gcr.io/oss-fuzz-base/base-builder-python", "WORKDIR $SRC/wsframe",
                  "RUN cp .clusterfuzzlite/build.sh $SRC/")


def check_project_files() -> None:
    """The Dockerfiles lay out $SRC as this check does, and project.yaml says python."""
    for path, lines in ((ROOT / ".clusterfuzzlite/Dockerfile", DOCKERFILE_LINES),
                        (ROOT / "fuzz/oss-fuzz/Dockerfile", OSS_FUZZ_LINES)):
        text = [line.strip() for line in path.read_text().splitlines()]
        missing = [line for line in lines if line not in text]
        if missing:
            raise SystemExit(f"{path.relative_to(ROOT)} lacks {missing}: the local check "
                             "would not build what the engines build")
    for path in (ROOT / ".clusterfuzzlite/project.yaml", ROOT / "fuzz/oss-fuzz/project.yaml"):
        if "language: python" not in path.read_text().splitlines():
            raise SystemExit(f"{path.relative_to(ROOT)}: language must be python")


def checkout_files() -> list[Path]:
    """What ``COPY .`` would copy from a clone: the files git tracks or would track."""
    try:
        listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others",
                                 "--exclude-standard"], cwd=ROOT, check=True,
                                capture_output=True).stdout
    except (OSError, subprocess.CalledProcessError):
        sys.exit("check_build: needs a git checkout (to copy what a clone holds)")
    return [Path(name) for name in listed.decode().split("\0")
            if name and (ROOT / name).is_file()]


def make_venv(work: Path) -> Path:
    """A scratch venv standing for the image's python3 and pip3, seeing atheris."""
    venv = work / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python3"
    site = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_path("
                           "'purelib'))"], check=True, capture_output=True, text=True)
    import atheris  # type: ignore[import-untyped]  # noqa: F401  (fails early if missing)

    dev_site = sysconfig.get_path("platlib")
    Path(site.stdout.strip(), "wsframe-check-atheris.pth").write_text(dev_site + "\n")
    return venv


def check_dictionary(path: Path) -> None:
    """Every line is a comment, blank, or a token in libFuzzer's syntax."""
    for number, text in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = text.strip()
        if line and not line.startswith("#") and not DICT_LINE.match(line):
            raise SystemExit(f"{path.name}:{number}: not a libFuzzer dictionary entry: {line}")


def check_out(out: Path, expected: set[str]) -> None:
    """$OUT holds what the engines look for, for every target and no other."""
    built = {path.name for path in out.iterdir()
             if path.is_file() and os.access(path, os.X_OK)}
    if built != expected:
        raise SystemExit(f"build.sh built {sorted(built)}, expected {sorted(expected)}")
    for name in sorted(expected):
        wrapper = (out / name).read_text()
        if "LLVMFuzzerTestOneInput" not in wrapper:
            raise SystemExit(f"$OUT/{name} does not name LLVMFuzzerTestOneInput")
        if not (out / f"{name}.pkg").is_file():
            raise SystemExit(f"$OUT/{name}.pkg is missing")
        with zipfile.ZipFile(out / f"{name}_seed_corpus.zip") as archive:
            if not archive.namelist():
                raise SystemExit(f"$OUT/{name}_seed_corpus.zip is empty")
        check_dictionary(out / f"{name}.dict")


def run_fuzzer(out: Path, work: Path, name: str, seconds: int) -> bool:
    """Run one built fuzzer as a fuzzing job does; True if it found nothing."""
    corpus = work / "corpus" / name
    corpus.mkdir(parents=True)
    with zipfile.ZipFile(out / f"{name}_seed_corpus.zip") as archive:
        archive.extractall(corpus)
    crashes = work / "crashes"
    crashes.mkdir(exist_ok=True)
    command = [str(out / name), f"-dict={out / name}.dict", "-seed=1",
               f"-max_total_time={seconds}", "-timeout=30", "-rss_limit_mb=2560",
               f"-artifact_prefix={crashes}/{name}-", "-print_final_stats=1", str(corpus)]
    started = time.monotonic()
    result = subprocess.run(command, cwd=work, env={**os.environ, "PYTHONHASHSEED": "0"},
                            capture_output=True, text=True, check=False)
    took = time.monotonic() - started
    runs = re.findall(r"stat::number_of_executed_units: (\d+)", result.stderr)
    print(f"  {name}: {runs[-1] if runs else '?'} inputs in {took:.1f} s, "
          f"exit status {result.returncode}")
    if result.returncode == 0:
        return True
    found = sorted(crashes.glob(f"{name}-*"))
    if found and all(slow_but_not_reproducible(out, work, name, path) for path in found):
        return True
    print("\n".join(result.stderr.splitlines()[-40:]))
    keep = ROOT / "fuzz" / "crashes"
    keep.mkdir(parents=True, exist_ok=True)
    for path in found:
        shutil.copy(path, keep / path.name)
        print(f"  the input: fuzz/crashes/{path.name} ({path.read_bytes().hex()[:200]})")
    return False


def slow_but_not_reproducible(out: Path, work: Path, name: str, path: Path) -> bool:
    """A timeout or slow-unit artifact that runs quickly and passes when replayed
    alone: the machine was busy (2 shared cores), not a finding. Crashes count
    always; so does a timeout that reproduces."""
    if not path.name.startswith((f"{name}-timeout-", f"{name}-slow-unit-")):
        return False
    started = time.monotonic()
    replay = subprocess.run([str(out / name), "-timeout=60", str(path)], cwd=work,
                            capture_output=True, text=True, check=False,
                            env={**os.environ, "PYTHONHASHSEED": "0"})
    took = time.monotonic() - started
    if replay.returncode != 0 or took > 10:
        return False
    what = "timeout" if "-timeout-" in path.name else "slow unit"
    print(f"  {name}: {what} not reproducible (replayed alone in {took:.1f} s): the "
          "machine was busy; not a finding")
    return True


def main() -> None:
    """Build with build.sh in a scratch $SRC/$OUT, check $OUT, run each fuzzer."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=12, help="run each fuzzer this long")
    parser.add_argument("--keep", metavar="DIR", help="build in DIR (kept) instead of a "
                                                      "temporary directory")
    args = parser.parse_args()
    scratch = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="wsframe-fuzz-"))
    try:
        ok = build_and_run(scratch, args.seconds)
    finally:
        if not args.keep:
            shutil.rmtree(scratch, ignore_errors=True)
    sys.exit(0 if ok else 1)


def build_and_run(scratch: Path, seconds: int) -> bool:
    """The check itself, in ``scratch``."""
    src, out, work = scratch / "src", scratch / "out", scratch / "work"
    for directory in (src / "wsframe", out, work / "bin"):
        directory.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    check_project_files()
    for name in checkout_files():                        # Dockerfile: COPY . $SRC/wsframe
        (src / "wsframe" / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, src / "wsframe" / name)
    shutil.copy2(ROOT / ".clusterfuzzlite/build.sh", src / "build.sh")
    venv = make_venv(work)
    stand_in = work / "bin" / "compile_python_fuzzer"
    stand_in.write_text(COMPILE_PYTHON_FUZZER)
    stand_in.chmod(0o755)
    env = {**os.environ, "SRC": str(src), "OUT": str(out), "WORK": str(work),
           "PATH": f"{work / 'bin'}:{venv / 'bin'}:{os.environ.get('PATH', '')}",
           "SANITIZER": "address", "FUZZING_ENGINE": "libfuzzer",
           "FUZZING_LANGUAGE": "python", "ARCHITECTURE": "x86_64",
           "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    env.pop("VIRTUAL_ENV", None)
    env.pop("PYTHONPATH", None)
    subprocess.run(["bash", "-eu", str(src / "build.sh")], cwd=src / "wsframe", env=env,
                   check=True, stdout=subprocess.DEVNULL)
    expected = {path.stem for path in (ROOT / "fuzz").glob("fuzz_*.py")}
    check_out(out, expected)
    installed = subprocess.run(
        [str(venv / "bin" / "python3"), "-c", "import wsframe; print(wsframe.__file__)"],
        cwd=work, check=True, capture_output=True, text=True, env=env).stdout.strip()
    if not installed.startswith(str(venv)):
        raise SystemExit(f"the fuzzers would import wsframe from {installed}, not the build")
    print(f"build.sh built {len(expected)} fuzzers in {time.monotonic() - started:.1f} s "
          f"({out}); each runs {seconds} s:")
    results = [run_fuzzer(out, work, name, seconds) for name in sorted(expected)]
    return all(results)


if __name__ == "__main__":
    main()
