"""dm_env specs <-> plain values that `codec` can store.

A spec is stored as a dict with `shape` (int64 array), `dtype` (str) and
`name`; `BoundedArray` adds `minimum`/`maximum` and `DiscreteArray` adds
`num_values`. Lists, tuples and dicts of specs are handled recursively. This is
how envlogger records the environment specs in the dataset metadata (key
`'environment_specs'`), identical to upstream.
"""

from typing import Any, Dict, Optional

import dm_env
from dm_env import specs
import numpy as np

_SPEC_NAMES = ('observation_spec', 'action_spec', 'reward_spec', 'discount_spec')


def encode(spec: Any) -> Any:
  """Encodes a (nested) dm_env spec into dicts of plain values.

  Args:
    spec: a `specs.Array` (or subclass), or a list/tuple/dict of such.

  Returns:
    The same structure with every spec replaced by a dict (see module doc).

  Raises:
    TypeError: `spec` (or a nested element) is of another type.
  """
  if isinstance(spec, specs.Array):
    encoded = {
      'shape': np.array(spec.shape, dtype=np.int64),
      'dtype': str(spec.dtype),
      'name': spec.name,
    }
    if isinstance(spec, specs.BoundedArray):
      encoded['minimum'] = spec.minimum
      encoded['maximum'] = spec.maximum
    if isinstance(spec, specs.DiscreteArray):
      encoded['num_values'] = spec.num_values
    return encoded
  if isinstance(spec, list):
    return [encode(x) for x in spec]
  if isinstance(spec, tuple):
    return tuple(encode(x) for x in spec)
  if isinstance(spec, dict):
    return {k: encode(v) for k, v in spec.items()}
  raise TypeError(
    'encode() should be called with an argument of type specs.Array (and '
    f'subclasses), list, tuple or dict. Found {type(spec)}: {spec!r}'
  )


def decode(spec: Any) -> Any:
  """Inverse of `encode`: rebuilds dm_env specs from their encoded form.

  A dict holding both `'shape'` and `'dtype'` is a spec: a `DiscreteArray` if
  it has `'num_values'`, else a `BoundedArray` if it has `'minimum'` and
  `'maximum'`, else an `Array`. A missing (None) shape means `()`. Other dicts,
  lists and tuples are decoded element-wise.

  Raises:
    TypeError: `spec` (or a nested element) is of another type.
  """
  if isinstance(spec, dict):
    if 'shape' in spec and 'dtype' in spec:
      shape = spec['shape'] if spec['shape'] is not None else ()
      if 'num_values' in spec:
        return specs.DiscreteArray(
          num_values=spec['num_values'], dtype=spec['dtype'], name=spec.get('name')
        )
      if 'minimum' in spec and 'maximum' in spec:
        return specs.BoundedArray(
          shape=shape,
          dtype=spec['dtype'],
          minimum=spec['minimum'],
          maximum=spec['maximum'],
          name=spec.get('name'),
        )
      return specs.Array(shape=shape, dtype=spec['dtype'], name=spec.get('name'))
    return {k: decode(v) for k, v in spec.items()}
  if isinstance(spec, list):
    return [decode(x) for x in spec]
  if isinstance(spec, tuple):
    return tuple(decode(x) for x in spec)
  raise TypeError(
    'decode() should be called with an argument of type dict, list or '
    f'tuple. Found {type(spec)}: {spec!r}'
  )


def encode_environment_specs(env: Optional[dm_env.Environment]) -> Dict[str, Any]:
  """Encodes the four specs of `env` (an empty dict if `env` is falsy)."""
  if not env:
    return {}
  return {
    'observation_spec': encode(env.observation_spec()),
    'action_spec': encode(env.action_spec()),
    'reward_spec': encode(env.reward_spec()),
    'discount_spec': encode(env.discount_spec()),
  }


def decode_environment_specs(encoded_specs: Optional[Dict[str, Any]]) -> Dict[str, Any]:
  """Decodes the output of `encode_environment_specs` (after a codec trip).

  Returns:
    A dict with the keys observation_spec, action_spec, reward_spec and
    discount_spec; each value is None when absent from `encoded_specs`.
  """
  encoded_specs = encoded_specs or {}
  return {
    name: (decode(encoded_specs[name]) if encoded_specs.get(name) is not None else None)
    for name in _SPEC_NAMES
  }
