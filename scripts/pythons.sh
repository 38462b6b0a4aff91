# Sourced by scripts/build_wheels.sh and scripts/test_wheels.sh: the CPython
# interpreters wheels are built and tested for.
#   WHEEL_VERSIONS   3.9 .. 3.13
#   find_python 3.X  prints the newest pyenv CPython 3.X ($PYENV_ROOT, default
#                    ~/.pyenv), else python3.X from PATH; fails if there is none
#   wheel_pythons    prints one interpreter per version, or $ENVLOGGER_WHEEL_PYTHONS
WHEEL_VERSIONS=(3.9 3.10 3.11 3.12 3.13)

find_python() {
  local v="$1" candidate
  for candidate in $(ls -d "${PYENV_ROOT:-$HOME/.pyenv}/versions/$v".* 2>/dev/null | sort -V -r); do
    if [[ -x "$candidate/bin/python" ]]; then echo "$candidate/bin/python"; return; fi
  done
  command -v "python$v" || { echo "no CPython $v found (pyenv install $v, or put python$v on PATH)" >&2; return 1; }
}

wheel_pythons() {
  if [[ -n "${ENVLOGGER_WHEEL_PYTHONS:-}" ]]; then
    printf '%s\n' $ENVLOGGER_WHEEL_PYTHONS
    return
  fi
  local v
  for v in "${WHEEL_VERSIONS[@]}"; do find_python "$v" || return 1; done
}

wheel_tag() {  # wheel_tag PYTHON: cp39, cp310, ...
  "$1" -c 'import sys; print("cp%d%d" % sys.version_info[:2])'
}
