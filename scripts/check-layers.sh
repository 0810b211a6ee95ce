#!/usr/bin/env bash
# Checks that dependencies point one way, as docs/architecture.md draws them:
#   1. targets: each target imports only the modules below it, and the library (MNISTKernels,
#      MNISTFormats, MNISTSoftmax) never Foundation, only FoundationEssentials (a binary that
#      links Foundation loads libFoundation, its internationalization library and ICU), and
#      neither do the server and the executable, so that `mnist-softmax` links neither;
#   2. the folders of the formats (Sources/MNISTFormats) and of the library (Sources/MNISTSoftmax):
#      each folder names (outside comments) only types declared in its own folder or in folders of
#      a lower layer of its target, and uses no member that a folder of its layer or above adds
#      by an extension (`data.maskedForKernels` in Model/ with the extension in Training/). The
#      members checked are those an extension declares (func, var, let, static, not private) and
#      top-level functions, whose names are distinctive: declared in one folder of Sources/ only
#      (so `count`, `description` or `weights` are never matched), in an extension that adopts no
#      protocol (a conformance's members carry the protocol's common names). A use is `.name`
#      or `name(` on a code line; a member of a type is reached through the type's name, which
#      the type check sees;
#   3. the C libraries: each is imported only by the file that wraps it.
# Prints each broken rule, then `N passed, N failed`; exits 1 when any failed.
set -euo pipefail
cd "$(dirname "$0")/.."

passed=0
failed=0
check() { # check DESCRIPTION OFFENDING-LINES
  if [ -z "$2" ]; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    echo "FAIL: $1"
    echo "$2" | sed 's/^/    /'
  fi
}

# FILE:LINE:TEXT of Swift code lines: no comment-only lines (`//`, `///`), no imports.
code() { grep -Hn '' "$@" | grep -vE '^[^:]+:[0-9]+:[[:space:]]*(//|import )' || true; }
# Files of a folder or target that import MODULE.
importers() { grep -rlE "^(@testable )?import $2\$" "$1" || true; }

# The names of what FILEs' extensions add (non-private func, var, let at the extension's first
# level, in extensions that adopt no protocol) and of their top-level functions.
extension_members() {
  awk '
    /^((public|package) )?extension [A-Za-z0-9_.<>]+( where [^{]*)? *\{/ { inside = 1; next }
    /^}/ { inside = 0 }
    inside && /^    [^ ]/ && !/(private|fileprivate) / {
      if (match($0, /(func|var|let) [a-zA-Z_][a-zA-Z0-9_]*/)) { split(substr($0, RSTART, RLENGTH), w, " "); print w[2] }
    }
    /^((public|package) )?func [a-zA-Z_]/ { match($0, /func [a-zA-Z_][a-zA-Z0-9_]*/); print substr($0, RSTART + 5, RLENGTH - 5) }
  ' "$@" | sort -u
}

# Names declared (func, var, let, case, at any depth) in exactly one folder of Sources/.
distinctive=$(grep -rHoE '^[[:space:]]*([a-z@]+ )*(func|var|let|case) [a-zA-Z_][a-zA-Z0-9_]*' Sources --include='*.swift' \
  | awk -F: '{ sub(/\/[^\/]*$/, "", $1); n = split($2, w, " "); print w[n], $1 }' | sort -u \
  | awk '{ count[$1]++ } END { for (name in count) if (count[name] == 1) print name }')

# 1. Targets, bottom to top: which modules each may not import.
check "MNISTKernels imports only CPrefetch and the system" \
  "$(grep -rhE '^import ' Sources/MNISTKernels | grep -vE '^import (CPrefetch|Glibc|Darwin|Synchronization)$' || true)"
check "MNISTFormats imports only the C libraries it wraps and the system" \
  "$(grep -rhE '^import ' Sources/MNISTFormats | grep -vE '^import (CZlib|CISAL|CCrypto|CLibPNG|FoundationEssentials|Dispatch|Synchronization|Glibc|Darwin)$' || true)"
for module in Foundation MNISTSoftmaxServer ArgumentParser FlyingFox FlyingSocks MNISTSoftmaxFixtures CZlib CISAL CCrypto CLibPNG; do
  check "the library MNISTSoftmax does not import $module" "$(importers Sources/MNISTSoftmax "$module")"
done
for module in ArgumentParser MNISTKernels Foundation FoundationNetworking; do
  check "MNISTSoftmaxServer does not import $module" "$(importers Sources/MNISTSoftmaxServer "$module")"
done
check "the executable uses the kernels only through the library" "$(importers Sources/mnist-softmax MNISTKernels)"
for module in Foundation FoundationNetworking; do
  check "the executable does not import $module (the binary links FoundationEssentials only)" \
    "$(importers Sources/mnist-softmax "$module")"
done
check "the fixtures import only the library" \
  "$(grep -rhE '^import ' Tests/Fixtures | grep -vE '^import (MNISTSoftmax|Foundation|Glibc|Darwin)$' || true)"

# 2. The folders of a target by layer, bottom first, siblings on one line: a folder may use the
# types of lower layers only.
check_folder_layers() { # check_folder_layers TARGET-DIRECTORY LAYER...
  local target=$1
  shift
  local -A rank=() lines=() declared=() members=()
  local index=0 folder other path type types member calls found uses
  for layer in "$@"; do
    for folder in $layer; do rank[$folder]=$index; done
    index=$((index + 1))
  done
  for path in "$target"/*/; do
    folder=$(basename "$path")
    check "$target/$folder has a layer in scripts/check-layers.sh" "$([ -n "${rank[$folder]:-}" ] || echo "$folder")"
  done
  # The top-level types each folder declares (nested ones start indented), and the members its
  # extensions add plus its top-level functions, where the name is declared in no other folder.
  for folder in "${!rank[@]}"; do
    lines[$folder]=$(code "$target/$folder"/*.swift)
    declared[$folder]=$(echo "${lines[$folder]}" \
      | grep -oE '^[^:]+:[0-9]+:((public|package|final|indirect) )*(struct|enum|class|protocol|typealias|actor) [A-Z][A-Za-z0-9]*' \
      | awk '{print $NF}' | sort -u | tr '\n' ' ' || true)
    members[$folder]=$(extension_members "$target/$folder"/*.swift | grep -xF -f <(echo "$distinctive") | tr '\n' ' ' || true)
  done
  for folder in "${!rank[@]}"; do
    for other in "${!rank[@]}"; do
      [ "$folder" = "$other" ] && continue
      [ "${rank[$other]}" -lt "${rank[$folder]}" ] && continue
      uses=""
      # One search per kind for every name at once; then the first line of each name found.
      types=$(echo ${declared[$other]} | tr ' ' '|')
      calls=$(echo ${members[$other]} | tr ' ' '|')
      for type in $([ -z "$types" ] || echo "${lines[$folder]}" | grep -oE "\b($types)\b" | sort -u); do
        found=$(echo "${lines[$folder]}" | grep -m1 -E "^[^:]+:[0-9]+:.*\b$type\b")
        uses+="$type ($other, layer ${rank[$other]}) in $found"$'\n'
      done
      for member in $([ -z "$calls" ] || echo "${lines[$folder]}" | grep -oE "(\.($calls)\b|\b($calls)\()" | tr -d '.(' | sort -u); do
        found=$(echo "${lines[$folder]}" | grep -m1 -E "^[^:]+:[0-9]+:.*(\.$member\b|\b$member\()")
        uses+="$member ($other, layer ${rank[$other]}) in $found"$'\n'
      done
      check "$folder (layer ${rank[$folder]}) does not use $other (layer ${rank[$other]})" "${uses%$'\n'}"
    done
  done
}
check_folder_layers Sources/MNISTFormats \
  "Files JSON Threads" \
  "Gzip Digest Image" \
  "IDX Zip Pickle SafeTensors Protobuf"
check_folder_layers Sources/MNISTSoftmax \
  "Dataset" \
  "Preprocessing Fetch" \
  "Model" \
  "ModelFile Evaluation GradientCheck" \
  "Training Prediction ONNX Pictures" \
  "Report"

# 3. Each C library behind the file that wraps it.
formats=Sources/MNISTFormats
library=Sources/MNISTSoftmax
check "only Gzip/Gzip.swift imports CZlib" "$(importers "$formats" CZlib | grep -vx "$formats/Gzip/Gzip.swift" || true)"
check "only Gzip/Gzip.swift imports CISAL" "$(importers "$formats" CISAL | grep -vx "$formats/Gzip/Gzip.swift" || true)"
check "only Digest/SHA256.swift imports CCrypto" "$(importers "$formats" CCrypto | grep -vx "$formats/Digest/SHA256.swift" || true)"
check "only Image/PNGFile.swift imports CLibPNG" "$(importers "$formats" CLibPNG | grep -vx "$formats/Image/PNGFile.swift" || true)"
check "only Model imports CCPUFeatures" "$(importers "$library" CCPUFeatures | grep -v "^$library/Model/" || true)"
check "only the Model layer and above import MNISTKernels" \
  "$(importers "$library" MNISTKernels | grep -E "^$library/(Dataset|Preprocessing|Fetch)/" || true)"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
