#!/usr/bin/env bash
# The main job: sets up the machine, records 100 episodes of Catch with a
# random agent into a Riegeli dataset, and reads them back.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
out="${1:-/tmp/envlogger_catch_demo}"
rm -rf "$out"
.venv/bin/python -m envlogger.examples.random_agent_catch --num_episodes=100 --trajectories_dir="$out"
