# Sourced by the CI scripts: install what a step needs, only when it is missing.
#   need_apt PACKAGE...              Debian packages (apt-get update first, once, only if any is missing)
#   need_pip "IMPORTS" PACKAGE...    Python packages, when `import IMPORTS` fails
need_apt() {
  local missing=() package
  for package in "$@"; do
    dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "installing ${missing[*]}" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
}

need_pip() {
  local imports="$1"
  shift
  if ! python3 -c "import $imports" >/dev/null 2>&1; then
    echo "installing $* (python3: import $imports failed)" >&2
    python3 -m pip install --quiet --disable-pip-version-check "$@"
  fi
}
