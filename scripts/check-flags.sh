#!/usr/bin/env bash
# Checks, in the release build's own description (.build/release.yaml, written by
# `swift build -c release`), which Swift modules are compiled without Swift's checks or for a
# CPU beyond the baseline, and fails unless that is the numeric kernels alone:
# - a module compiled with -Ounchecked, -enforce-exclusivity=unchecked or -target-cpu must be
#   MNISTKernels, with every source file under Sources/MNISTKernels/;
# - no file there reads bytes from outside (files, the network, the environment);
# - MNISTFormats, which holds every reader of user files, and MNISTSoftmax above it are compiled
#   with -O and none of them.
# Prints each module's flags, then `N passed, N failed`. Run after a release build.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f .build/release.yaml ] || { echo "check-flags: no .build/release.yaml; run swift build -c release first" >&2; exit 1; }
python3 - <<'PY'
import json, re, sys, pathlib
root = pathlib.Path.cwd()
description = pathlib.Path(".build/release.yaml").read_text()
unchecked = ("-Ounchecked", "-enforce-exclusivity=unchecked", "-target-cpu")
passed, failed = 0, 0
def check(ok, message):
    global passed, failed
    print(("ok    " if ok else "FAIL  ") + message)
    if ok: passed += 1
    else: failed += 1
modules = {}
for command in re.finditer(r'inputs: (\[.*?\])\n.*?\n\s*description: "Compiling Swift Module.*?\n\s*args: (\[.*?\])\n', description):
    inputs, args = json.loads(command.group(1)), json.loads(command.group(2))
    name = args[args.index("-module-name") + 1]
    sources = [p for p in inputs if p.endswith(".swift")]
    flags = [a for a in args if a in unchecked or a in ("-O", "-Onone")]
    if "-target-cpu" in args: flags.append("cpu=" + args[args.index("-target-cpu") + 1])
    modules[name] = (sources, flags)
    print(f"{name}: {' '.join(flags) or '(none)'}")
kernels = root / "Sources/MNISTKernels"
for name, (sources, flags) in sorted(modules.items()):
    if any(f in unchecked or f.startswith("cpu=") for f in flags):
        check(name == "MNISTKernels", f"{name}, built unchecked or for a target CPU, is the kernels module")
        outside = [s for s in sources if not pathlib.Path(s).resolve().is_relative_to(kernels.resolve())]
        check(not outside, f"{name}: every unchecked source is under Sources/MNISTKernels" + (f" (not: {outside})" if outside else ""))
check("MNISTKernels" in modules, "the kernels module was built")
for name, role in [("MNISTFormats", "every reader of user bytes"), ("MNISTSoftmax", "the library")]:
    module = modules.get(name)
    check(module is not None and "-O" in module[1] and not any(f in unchecked or f.startswith("cpu=") for f in module[1]),
          f"{name} ({role}) keeps Swift's checks and the baseline CPU")
# The C calls that read files, sockets or the environment, and Foundation itself (whose
# FileManager, FileHandle and ProcessInfo would read them): the kernels import neither.
reading = re.compile(r"\b(fopen|fread|open\(|read\(|recv\(|getenv|import Foundation)")
for source in sorted(kernels.glob("*.swift")):
    hits = [f"{source.name}:{n}" for n, line in enumerate(source.read_text().splitlines(), 1)
            if reading.search(line) and not line.lstrip().startswith("//")]
    check(not hits, f"{source.name} reads no bytes from outside" + (f" (see {hits})" if hits else ""))
print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
PY
