"""atheris target: the native Data decoder against the Python reference codec.

Every input is decoded as serialized `envlogger.Data` twice: by the native
decoder (`native_codec.decode`, C++, bytes to Python values) and by the
reference (`codec.decode(storage_pb2.Data.FromString(...))`). Contract checked:
the native decoder never crashes the interpreter and refuses bad bytes only
with ValueError, TypeError or RecursionError; and the two agree on every input:
the same value (types, dtypes, shapes and bytes included) or both refuse.
Dict key order is not compared (protobuf's map order varies between
processes), nor values holding a dict entry that upb set aside for carrying
unknown fields (see _has_set_aside_map_entry).

Run by scripts/fuzz.sh (with .venv's Python; needs `atheris`, see
requirements-dev.txt); the arguments are libFuzzer's:
  .venv/bin/python envlogger/converters/fuzz/codec_differential_fuzzer.py CORPUS_DIR -max_total_time=60
Only the Python reference is instrumented for coverage (the native module is
not built with coverage instrumentation), so this target relies on its seed
corpus (scripts/make_fuzz_corpus.py) and on the reference's branches.
"""
# fuzz-options: -max_len=4096
# fuzz-short-run: replay (open divergences in docs/fuzzing.md; scripts/fuzz_campaign.sh explores)

import math
import os
import struct
import sys
from typing import Any

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


def _same(a: Any, b: Any, where: str) -> None:
  """Raises AssertionError naming the place where a and b differ."""
  if type(a) is not type(b):
    raise AssertionError(f'{where}: native {type(a).__name__} != reference {type(b).__name__}')
  if isinstance(a, np.ndarray):
    if a.dtype != b.dtype or a.shape != b.shape:
      raise AssertionError(f'{where}: native {a.dtype}{a.shape} != reference {b.dtype}{b.shape}')
    if a.dtype == object:
      for i, (x, y) in enumerate(zip(a.ravel().tolist(), b.ravel().tolist())):
        _same(x, y, f'{where}[{i}]')
    elif a.tobytes() != b.tobytes():
      raise AssertionError(f'{where}: array values differ')
  elif isinstance(a, (list, tuple)):
    if len(a) != len(b):
      raise AssertionError(f'{where}: length {len(a)} != {len(b)}')
    for i, (x, y) in enumerate(zip(a, b)):
      _same(x, y, f'{where}[{i}]')
  elif isinstance(a, dict):
    # Key order is not compared: protobuf iterates a map in an order that
    # varies from process to process.
    if set(a) != set(b) or len(a) != len(b):
      raise AssertionError(f'{where}: keys {list(a)!r} != {list(b)!r}')
    for key in a:
      _same(a[key], b[key], f'{where}[{key!r}]')
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
  protobuf's pure-Python implementation and the native decoder keep the
  entry (and decode its value, which may fail). Such inputs are not compared.
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


def test_one_input(data: bytes) -> None:
  try:
    native = native_codec.decode(data)
    native_error = None
  except _NATIVE_ERRORS as e:
    native, native_error = None, e
  message = None
  try:
    message = storage_pb2.Data.FromString(data)
    reference = codec.decode(message)
    reference_error = None
  except Exception as e:  # pylint: disable=broad-except
    reference, reference_error = None, e
  if reference_error is None and _has_set_aside_map_entry(message):
    return  # The reference never decoded that entry: nothing to compare.
  if (native_error is None) != (reference_error is None):
    raise AssertionError(
      f'native {"refused: " + repr(native_error) if native_error else "accepted"}, '
      f'reference {"refused: " + repr(reference_error) if reference_error else "accepted"}'
    )
  if native_error is None:
    _same(native, reference, 'value')


def main() -> None:
  atheris.Setup(sys.argv, test_one_input)
  atheris.Fuzz()


if __name__ == '__main__':
  main()
