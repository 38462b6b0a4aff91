"""Gymnasium spaces -> dm_env specs, as recorded under 'environment_specs'.

Mapping (documented in docs/gymnasium.md):

* `Box(low, high, shape, dtype)` -> `BoundedArray(shape, dtype, low, high)`
  (infinite bounds are kept as they are).
* `Discrete(n, start=0)` -> `DiscreteArray(num_values=n, dtype)`; with a
  non-zero `start`, `BoundedArray((), dtype, start, start + n - 1)`, since a
  DiscreteArray always starts at 0.
* `MultiDiscrete(nvec, start)` -> `BoundedArray(nvec.shape, dtype, start,
  start + nvec - 1)`.
* `MultiBinary(n)` -> `BoundedArray(shape, int8, 0, 1)`.
* `Dict` -> dict of specs (same keys and order), `Tuple` -> tuple of specs,
  nested to any depth.

Any other space (`Graph`, `Text`, `Sequence`, `OneOf`, a custom `Space`)
raises `UnsupportedSpaceError` naming the space and where it sits, e.g.
`observation_space['camera'][1]`. Each spec is named after its path.

Also here: the reward and discount specs of a recorded Gymnasium step (rewards
are stored as float64 scalars, discounts as float64 in [0, 1], as dm_env's
defaults).
"""

from __future__ import annotations

from typing import Any, Dict

from dm_env import specs
import gymnasium
import numpy as np

from envlogger.converters import spec_codec


class UnsupportedSpaceError(TypeError):
  """A Gymnasium space that has no dm_env spec equivalent."""


def space_to_spec(space: gymnasium.spaces.Space, path: str = 'space') -> Any:
  """The dm_env spec (or nested dict/tuple of specs) of a Gymnasium space.

  Args:
    space: the space.
    path: how to name `space` in spec names and errors.

  Raises:
    UnsupportedSpaceError: `space` or a space nested in it is not one of Box,
      Discrete, MultiDiscrete, MultiBinary, Dict, Tuple.
  """
  spaces = gymnasium.spaces
  if isinstance(space, spaces.Box):
    return specs.BoundedArray(
      shape=space.shape, dtype=space.dtype, minimum=space.low, maximum=space.high, name=path
    )
  if isinstance(space, spaces.Discrete):
    start = int(space.start)
    if start == 0:
      return specs.DiscreteArray(num_values=int(space.n), dtype=space.dtype, name=path)
    return specs.BoundedArray(
      shape=(), dtype=space.dtype, minimum=start, maximum=start + int(space.n) - 1, name=path
    )
  if isinstance(space, spaces.MultiDiscrete):
    return specs.BoundedArray(
      shape=space.shape,
      dtype=space.dtype,
      minimum=space.start,
      maximum=space.start + space.nvec - 1,
      name=path,
    )
  if isinstance(space, spaces.MultiBinary):
    return specs.BoundedArray(shape=space.shape, dtype=space.dtype, minimum=0, maximum=1, name=path)
  if isinstance(space, spaces.Dict):
    return {key: space_to_spec(sub, f'{path}[{key!r}]') for key, sub in space.spaces.items()}
  if isinstance(space, spaces.Tuple):
    return tuple(space_to_spec(sub, f'{path}[{i}]') for i, sub in enumerate(space.spaces))
  raise UnsupportedSpaceError(
    f'Cannot record {path}: {type(space).__name__} spaces are not supported '
    f'({space!r}); supported are Box, Discrete, MultiDiscrete, MultiBinary, '
    'Dict and Tuple'
  )


def reward_spec() -> specs.Array:
  """The spec of recorded rewards: float64 scalars (dm_env's default)."""
  return specs.Array(shape=(), dtype=np.float64, name='reward')


def discount_spec() -> specs.BoundedArray:
  """The spec of recorded discounts: float64 in [0, 1] (dm_env's default)."""
  return specs.BoundedArray(shape=(), dtype=np.float64, minimum=0.0, maximum=1.0, name='discount')


def environment_specs(
  observation_space: gymnasium.spaces.Space, action_space: gymnasium.spaces.Space
) -> Dict[str, Any]:
  """The encoded four specs of an environment, for 'environment_specs'.

  Raises:
    UnsupportedSpaceError: either space is not supported (named by path).
  """
  return {
    'observation_spec': spec_codec.encode(space_to_spec(observation_space, 'observation_space')),
    'action_spec': spec_codec.encode(space_to_spec(action_space, 'action_space')),
    'reward_spec': spec_codec.encode(reward_spec()),
    'discount_spec': spec_codec.encode(discount_spec()),
  }


def spec_to_space(spec: Any, path: str = 'spec') -> gymnasium.spaces.Space:
  """A Gymnasium space for a (nested) dm_env spec, inverting space_to_spec.

  `DiscreteArray` -> `Discrete`; an integer scalar `BoundedArray` ->
  `Discrete(maximum - minimum + 1, start=minimum)`; other `BoundedArray`s ->
  `Box(minimum, maximum)`; an unbounded `Array` -> `Box` over the dtype's range
  (infinite for floats); dicts -> `Dict`, tuples and lists -> `Tuple`. A
  MultiDiscrete or MultiBinary space comes back as an integer `Box` with the
  same bounds (the spec does not tell them apart).

  Raises:
    TypeError: `spec` or a nested value is not a spec (named by path).
  """
  spaces = gymnasium.spaces
  if isinstance(spec, specs.DiscreteArray):
    return spaces.Discrete(spec.num_values, dtype=spec.dtype)
  if isinstance(spec, specs.Array):
    dtype = np.dtype(spec.dtype)
    if isinstance(spec, specs.BoundedArray):
      low, high = spec.minimum, spec.maximum
    elif np.issubdtype(dtype, np.integer):
      low, high = np.iinfo(dtype).min, np.iinfo(dtype).max
    else:
      low, high = -np.inf, np.inf
    if (
      isinstance(spec, specs.BoundedArray) and spec.shape == () and np.issubdtype(dtype, np.integer)
    ):
      return spaces.Discrete(int(high) - int(low) + 1, start=int(low), dtype=dtype)
    return spaces.Box(
      np.broadcast_to(low, spec.shape).astype(dtype),
      np.broadcast_to(high, spec.shape).astype(dtype),
      shape=spec.shape,
      dtype=dtype,
    )
  if isinstance(spec, dict):
    return spaces.Dict(
      {key: spec_to_space(value, f'{path}[{key!r}]') for key, value in spec.items()}
    )
  if isinstance(spec, (tuple, list)):
    return spaces.Tuple([spec_to_space(value, f'{path}[{i}]') for i, value in enumerate(spec)])
  raise TypeError(f'{path} is not a dm_env spec: {spec!r}')
