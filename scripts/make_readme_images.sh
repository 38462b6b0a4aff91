#!/usr/bin/env bash
# Regenerates the README's pictures with the envlogger command itself:
#   docs/images/catch_plot.png  `envlogger plot` of 200 episodes of Catch
#   docs/images/catch.gif       `envlogger video` of one of those episodes
# and prints `envlogger info` and `envlogger stats` of the same recording.
# Needs the viz extra (pip install envlogger[viz]). PYTHON picks the
# interpreter (default: .venv/bin/python if present, else python3).
set -euo pipefail
cd "$(dirname "$0")/.."
python="${PYTHON:-$( [ -x .venv/bin/python ] && echo .venv/bin/python || echo python3 )}"
data="$(mktemp -d)"
trap 'rm -rf "$data"' EXIT
"$python" -m envlogger.examples.random_agent_catch --num_episodes=200 \
    --trajectories_dir="$data/catch" --verbosity=-1 >/dev/null
envlogger() { "$python" -m envlogger.tools.cli "$@"; }
envlogger info "$data/catch"
envlogger stats "$data/catch"
mkdir -p docs/images
envlogger plot "$data/catch" -o docs/images/catch_plot.png --title 'Catch, random agent'
envlogger video "$data/catch" --episode 0 --field observation --scale 24 --fps 4 \
    -o docs/images/catch.gif
ls -l docs/images/catch_plot.png docs/images/catch.gif
