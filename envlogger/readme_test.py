"""Runs every code block of README.md as written.

Each ```python block runs in a fresh interpreter (this one), each ```sh block in
bash with `set -e`, in README order, one test per block. A block preceded by
the line `<!-- not run -->` is only checked to be there (e.g. the commands that
set up the machine or run this very suite). Two things differ from a user's
shell, both so that parallel runs cannot collide and nothing leaks:
  - every `/tmp/` in a block becomes a fresh temporary directory, shared by
    the blocks of one run (a block may read what an earlier one wrote);
  - `import envlogger` and the `envlogger` command use this checkout (the
    package directory's parent goes first on PYTHONPATH; `envlogger` runs
    `python -m envlogger.tools.cli`).
A block that fails only because an optional extra (torch, tensorflow, ...) is
not installed is skipped with that reason, unless ENVLOGGER_REQUIRE_EXTRAS=1
(scripts/test.sh sets it, since its venv has every extra).
"""

import dataclasses
import importlib.util
import os
import pathlib
import re
import shutil
import subprocess
import sys
import tempfile
from typing import List, Optional

import pytest

import envlogger
from envlogger import extras

# The README of the source tree this file is in (under Bazel, through the
# runfiles symlink), and the envlogger package being tested (under Bazel, the
# runfiles' one, with its _native.so).
_README = pathlib.Path(__file__).resolve().parent.parent / 'README.md'
_PACKAGE_PARENT = pathlib.Path(envlogger.__file__).parent.parent
_NOT_RUN = '<!-- not run -->'
_RUN_LANGUAGES = ('python', 'sh', 'bash', 'console')
# Top-level modules of the optional extras (pyproject.toml).
_EXTRA_MODULES = tuple(extras.EXTRA_OF_MODULE)
_TIMEOUT_S = 600


@dataclasses.dataclass(frozen=True)
class Block:
  language: str
  code: str
  line: int  # 1-based line of the opening fence
  run: bool


def extract_blocks(text: str) -> List[Block]:
  """The fenced code blocks of a Markdown text, in order."""
  blocks = []
  lines = text.splitlines()
  i = 0
  while i < len(lines):
    match = re.match(r'^```(\w*)\s*$', lines[i])
    if not match:
      i += 1
      continue
    start = i
    end = start + 1
    while end < len(lines) and lines[end].rstrip() != '```':
      end += 1
    if end == len(lines):
      raise ValueError(f'README.md:{start + 1}: code block is never closed')
    previous = next((l.strip() for l in reversed(lines[:start]) if l.strip()), '')
    blocks.append(
      Block(
        language=match.group(1),
        code='\n'.join(lines[start + 1 : end]) + '\n',
        line=start + 1,
        run=previous != _NOT_RUN,
      )
    )
    i = end + 1
  return blocks


def _readme_blocks() -> List[Block]:
  if not _README.exists():
    return []
  return extract_blocks(_README.read_text())


_BLOCKS = _readme_blocks()


@pytest.fixture(scope='module')
def workdir():
  """The directory that stands in for /tmp, shared by the blocks of one run."""
  path = pathlib.Path(tempfile.mkdtemp(prefix='readme_'))
  yield path
  shutil.rmtree(path, ignore_errors=True)


def _environment(workdir: pathlib.Path) -> dict:
  bin_dir = workdir / '.bin'
  if not bin_dir.exists():
    bin_dir.mkdir()
    launcher = bin_dir / 'envlogger'
    launcher.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m envlogger.tools.cli "$@"\n')
    launcher.chmod(0o755)
  env = dict(os.environ)
  env['PYTHONPATH'] = os.pathsep.join(
    [str(_PACKAGE_PARENT)] + [p for p in env.get('PYTHONPATH', '').split(os.pathsep) if p]
  )
  env['PATH'] = os.pathsep.join([str(bin_dir), os.path.dirname(sys.executable), env['PATH']])
  return env


def _missing_extra(stderr: str) -> Optional[str]:
  """The optional extra whose absence made a block fail, if that is why."""
  for module in _EXTRA_MODULES:
    if f"No module named '{module}" in stderr and importlib.util.find_spec(module) is None:
      return module
  match = re.search(r'pip install envlogger\[(\w+)\]', stderr)
  return match.group(1) if match else None


def test_readme_has_runnable_blocks():
  assert _README.exists(), f'{_README} is missing'
  runnable = [b for b in _BLOCKS if b.run]
  assert any(b.language == 'python' for b in runnable), 'README.md has no runnable python block'
  for block in _BLOCKS:
    assert block.language in _RUN_LANGUAGES or not block.run, (
      f'README.md:{block.line}: a ```{block.language or "(no language)"} block; '
      f'give it one of {_RUN_LANGUAGES} or mark it {_NOT_RUN}'
    )


def test_extract_blocks_reads_fences_and_markers():
  text = 'intro\n```python\nx = 1\n```\n\n<!-- not run -->\n\n```sh\nrm -rf /\n```\n'
  assert extract_blocks(text) == [
    Block(language='python', code='x = 1\n', line=2, run=True),
    Block(language='sh', code='rm -rf /\n', line=8, run=False),
  ]
  with pytest.raises(ValueError, match='never closed'):
    extract_blocks('```python\nx = 1\n')


@pytest.mark.parametrize(
  'block', [b for b in _BLOCKS if b.run], ids=lambda b: f'line{b.line}_{b.language}'
)
def test_readme_block_runs(block: Block, workdir: pathlib.Path):
  code = block.code.replace('/tmp/', f'{workdir}/')
  if block.language == 'python':
    command = [sys.executable, '-c', code]
  else:
    command = ['bash', '-e', '-o', 'pipefail', '-c', code]
  result = subprocess.run(
    command,
    cwd=workdir,
    env=_environment(workdir),
    capture_output=True,
    text=True,
    timeout=_TIMEOUT_S,
    check=False,
  )
  if result.returncode != 0:
    extra = _missing_extra(result.stderr)
    if extra and os.environ.get('ENVLOGGER_REQUIRE_EXTRAS') != '1':
      pytest.skip(f'README.md:{block.line} needs the optional {extra!r}, not installed')
  assert result.returncode == 0, (
    f'README.md:{block.line} ({block.language}) exited {result.returncode}:\n'
    f'{result.stdout[-3000:]}\n{result.stderr[-3000:]}'
  )
