"""Native (C++) codec: Python values <-> serialized `envlogger.Data` bytes.

The same mapping as `envlogger.converters.codec`, implemented in C++ on the
Python objects and numpy buffers themselves, without protobuf objects. It is
the hot path of recording (one `encode_step` per environment step) and of
reading. For every value `x` that `codec.encode` accepts:

  encode(x) == codec.encode(x).SerializeToString(deterministic=True)
  decode(b) == codec.decode(storage_pb2.Data.FromString(b))  (types included)

Decoded numpy arrays own their memory and are writable; str/bytes arrays come
back with dtype object.

Errors: a value `codec.encode` rejects raises TypeError naming the type and its
place in the value (e.g. "Unsupported `array.dtype`: float16 at
value[0]['obs']"); a string that is not valid Unicode raises ValueError;
values nested more than 200 levels deep (or cyclic) raise RecursionError;
bytes that are not a valid `envlogger.Data` raise ValueError naming the problem
and its byte offset.
"""

from typing import Any, Union

import dm_env

from envlogger._native import codec as _native_codec

BytesLike = Union[bytes, bytearray, memoryview]


def encode(value: Any) -> bytes:
  """Serializes `value` (None, list, tuple, dict, numpy array, scalar, nested).

  Args:
    value: the value to encode; see `envlogger.converters.codec` for the
      supported types.

  Returns:
    The wire bytes of the `envlogger.Data` message encoding `value`.

  Raises:
    TypeError: unsupported type or dtype, or a heterogeneous list.
    ValueError: a str that cannot be encoded as UTF-8.
    RecursionError: nesting deeper than 200 levels.
  """
  return _native_codec.encode(value)


def encode_step(timestep: dm_env.TimeStep, action: Any, custom_data: Any) -> bytes:
  """Serializes one step: the same bytes as `encode(StepData(...))`.

  Args:
    timestep: the environment's TimeStep.
    action: the action that led to `timestep` (None for the first step).
    custom_data: whatever the step function returned (or None).

  Returns:
    The wire bytes of `Data.tuple[timestep, action, custom_data]`.

  Raises:
    TypeError, ValueError, RecursionError: as `encode`.
  """
  return _native_codec.encode_step(timestep, action, custom_data)


def decode(data: BytesLike) -> Any:
  """Decodes serialized `envlogger.Data` into Python values.

  Args:
    data: the wire bytes (any bytes-like object; not copied).

  Returns:
    The decoded value, with `codec.decode`'s types; None for empty data.

  Raises:
    ValueError: `data` is not a valid `envlogger.Data` serialization.
    TypeError: a non-scalar Datum of bigints, or an unhashable dict key in
      `kvs`, as the Python codec.
  """
  return _native_codec.decode(data)
