"""atheris target: the native Data decoder against the Python reference codec.

Every input is decoded as serialized `envlogger.Data` twice: by the native
decoder (`native_codec.decode`, C++, bytes to Python values) and by the
reference (`codec.decode(storage_pb2.Data.FromString(...))`). Contract checked:
the native decoder never crashes the interpreter and refuses bad bytes only
with ValueError, TypeError or RecursionError; and the two agree on every input:
the same value (types, dtypes, shapes and bytes included) or both refuse.
Dict key order is not compared (protobuf's map order varies between
processes). upb, protobuf's default Python implementation, sets a dict entry
that carries unknown fields aside (see _has_set_aside_map_entry), where
protobuf's pure-Python implementation keeps it, as the native decoder does:
such inputs are compared with the reference codec running on the pure-Python
implementation, in a worker process (_PurePythonReference), NaN payloads in
float arrays aside (that implementation reads every NaN float as the
canonical NaN).

Run by scripts/fuzz.sh (with .venv's Python; needs `atheris`, see
requirements-dev.txt); the arguments are libFuzzer's:
  .venv/bin/python envlogger/converters/fuzz/codec_differential_fuzzer.py CORPUS_DIR -max_total_time=60
Only the Python reference is instrumented for coverage (the native module is
not built with coverage instrumentation), so this target relies on its seed
corpus (scripts/make_fuzz_corpus.py) and on the reference's branches.
"""
# fuzz-options: -max_len=4096

from __future__ import annotations

import math
import os
import pickle
import struct
import subprocess
import sys
from typing import Any, Optional

import atheris

sys.path.insert(
  0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
)

with atheris.instrument_imports(include=['envlogger.converters.codec']):
  # pylint: disable=g-import-not-at-top
  import numpy as np
  from envlogger.converters import codec
  from envlogger.converters import native_codec
  from envlogger.proto import storage_pb2
  from google.protobuf import unknown_fields

_NATIVE_ERRORS = (ValueError, TypeError, RecursionError)


def _same(a: Any, b: Any, where: str, nan_payloads: bool = True) -> None:
  """Raises AssertionError naming the place where a and b differ.

  With nan_payloads=False, NaNs in float arrays match whatever their bits:
  protobuf's pure-Python implementation reads every NaN float as Python's
  canonical NaN.
  """
  if type(a) is not type(b):
    raise AssertionError(f'{where}: native {type(a).__name__} != reference {type(b).__name__}')
  if isinstance(a, np.ndarray):
    if a.dtype != b.dtype or a.shape != b.shape:
      raise AssertionError(f'{where}: native {a.dtype}{a.shape} != reference {b.dtype}{b.shape}')
    if a.dtype == object:
      for i, (x, y) in enumerate(zip(a.ravel().tolist(), b.ravel().tolist())):
        _same(x, y, f'{where}[{i}]', nan_payloads)
    elif not nan_payloads and a.dtype.kind == 'f':
      a_nan, b_nan = np.isnan(a), np.isnan(b)
      if not np.array_equal(a_nan, b_nan) or a[~a_nan].tobytes() != b[~b_nan].tobytes():
        raise AssertionError(f'{where}: array values differ')
    elif a.tobytes() != b.tobytes():
      raise AssertionError(f'{where}: array values differ')
  elif isinstance(a, (list, tuple)):
    if len(a) != len(b):
      raise AssertionError(f'{where}: length {len(a)} != {len(b)}')
    for i, (x, y) in enumerate(zip(a, b)):
      _same(x, y, f'{where}[{i}]', nan_payloads)
  elif isinstance(a, dict):
    # Key order is not compared: protobuf iterates a map in an order that
    # varies from process to process.
    if set(a) != set(b) or len(a) != len(b):
      raise AssertionError(f'{where}: keys {list(a)!r} != {list(b)!r}')
    for key in a:
      _same(a[key], b[key], f'{where}[{key!r}]', nan_payloads)
  elif isinstance(a, float) or isinstance(a, np.floating):
    if struct.pack('<d', float(a)) != struct.pack('<d', float(b)) and not (
      math.isnan(a) and math.isnan(b)
    ):
      raise AssertionError(f'{where}: {a!r} != {b!r}')
  elif isinstance(a, np.generic):
    if a.dtype != b.dtype or a.tobytes() != b.tobytes():
      raise AssertionError(f'{where}: {a!r} != {b!r}')
  elif a != b:
    raise AssertionError(f'{where}: {a!r} != {b!r}')


def _has_set_aside_map_entry(message: storage_pb2.Data) -> bool:
  """True if upb set a dict entry aside as an unknown field of its map.

  upb (protobuf's default Python implementation) moves a map entry that
  carries unknown fields out of the map, into the parent's unknown fields;
  protobuf's C++ and pure-Python implementations and the native decoder keep
  the entry (and decode its value, which may fail).
  """
  kind = message.WhichOneof('value')
  if kind in ('array', 'tuple'):
    return any(_has_set_aside_map_entry(v) for v in getattr(message, kind).values)
  if kind == 'dict':
    if any(f.field_number == 1 for f in unknown_fields.UnknownFieldSet(message.dict)):
      return True
    return any(_has_set_aside_map_entry(v) for v in message.dict.values.values()) or any(
      _has_set_aside_map_entry(v) for v in message.dict.kvs.values
    )
  return False


_WORKER_FLAG = '--pure-python-reference-worker'


def _reference(data: bytes) -> tuple[Any, Any]:
  """The reference codec's (value, None) or (None, error) for `data`."""
  try:
    return codec.decode(storage_pb2.Data.FromString(data)), None
  except Exception as e:  # pylint: disable=broad-except
    return None, e


class _PurePythonReference:
  """The reference codec on protobuf's pure-Python implementation.

  A worker process (this file run with _WORKER_FLAG) started on first use; it
  answers each input with the pickled (value, error repr) of _reference().
  """

  def __init__(self) -> None:
    self._worker: Optional[subprocess.Popen] = None

  def __call__(self, data: bytes) -> tuple[Any, Any]:
    if self._worker is None:
      env = dict(os.environ, PROTOCOL_BUFFERS_PYTHON_IMPLEMENTATION='python')
      self._worker = subprocess.Popen(
        [sys.executable, os.path.abspath(__file__), _WORKER_FLAG],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        env=env,
      )
    self._worker.stdin.write(struct.pack('<I', len(data)) + data)
    self._worker.stdin.flush()
    header = self._worker.stdout.read(4)
    if len(header) < 4:
      raise RuntimeError(f'the pure-Python reference worker exited ({self._worker.wait()})')
    (size,) = struct.unpack('<I', header)
    return pickle.loads(self._worker.stdout.read(size))


def _serve_pure_python_reference() -> None:
  """The worker's loop: length-prefixed inputs in, pickled answers out."""
  from google.protobuf.internal import api_implementation  # pylint: disable=g-import-not-at-top

  assert api_implementation.Type() == 'python', api_implementation.Type()
  while True:
    header = sys.stdin.buffer.read(4)
    if len(header) < 4:
      return
    (size,) = struct.unpack('<I', header)
    value, error = _reference(sys.stdin.buffer.read(size))
    answer = pickle.dumps((value, None if error is None else repr(error)))
    sys.stdout.buffer.write(struct.pack('<I', len(answer)) + answer)
    sys.stdout.buffer.flush()


_pure_python_reference = _PurePythonReference()


def test_one_input(data: bytes) -> None:
  try:
    native = native_codec.decode(data)
    native_error = None
  except _NATIVE_ERRORS as e:
    native, native_error = None, e
  pure_python = False
  try:
    message = storage_pb2.Data.FromString(data)
  except Exception as e:  # pylint: disable=broad-except
    reference, reference_error = None, e
  else:
    pure_python = _has_set_aside_map_entry(message)
    if pure_python:
      reference, reference_error = _pure_python_reference(data)
    else:
      reference, reference_error = _reference(data)
  if (native_error is None) != (reference_error is None):
    raise AssertionError(
      f'native {"refused: " + repr(native_error) if native_error else "accepted"}, '
      f'reference {"refused: " + repr(reference_error) if reference_error else "accepted"}'
    )
  if native_error is None:
    _same(native, reference, 'value', nan_payloads=not pure_python)


def main() -> None:
  if sys.argv[1:] == [_WORKER_FLAG]:
    _serve_pure_python_reference()
    return
  atheris.Setup(sys.argv, test_one_input)
  atheris.Fuzz()


if __name__ == '__main__':
  main()
