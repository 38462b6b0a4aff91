"""GymnasiumLogger: records a Gymnasium environment like EnvLogger records dm_env.

`reset()` and `step()` become dm_env-shaped steps in the same dataset layout
as `EnvLogger`'s (which does the recording, through the same native writer):

* `reset()` -> a FIRST step (reward and discount None, action None);
* `step(a)` -> a MID step, or a LAST step when the episode ends:
  `terminated` -> discount 0.0, `truncated` (and not terminated) -> discount
  1.0; rewards are stored as Python floats (float64 scalars, dm_env's default
  reward spec);
* the spaces become the dataset's 'environment_specs' (see
  `envlogger/converters/gym_spaces.py`);
* `info` is stored only when asked, as custom data `{'info': ...}`;
* `reset(seed=..., options=...)` arguments are the episode's metadata.

See docs/gymnasium.md.
"""

from __future__ import annotations

import collections.abc
from typing import Any, Callable, Iterable, Optional, Tuple, Union

import dm_env
import gymnasium

from envlogger import _native
from envlogger import environment_logger
from envlogger.converters import gym_spaces
from envlogger.converters import spec_codec

InfoFilter = Union[Iterable[str], Callable[[dict], Any]]

_FIRST = dm_env.StepType.FIRST
_LAST = dm_env.StepType.LAST
_STEP_TYPES = (_FIRST, dm_env.StepType.MID, _LAST)
_TimeStep = dm_env.TimeStep
_gym_step_kind = _native.dataset_io.gym_step_kind


def make_info_filter(info_filter: Optional[InfoFilter]) -> Optional[Callable[[dict], Any]]:
  """`info_filter` as a function of an info dict (None stays None).

  A callable is used as is; an iterable of keys keeps those keys (in that
  order) that the info dict has.

  Raises:
    TypeError: `info_filter` is neither, or holds a key that is not a str.
  """
  if info_filter is None or callable(info_filter):
    return info_filter
  if isinstance(info_filter, (str, bytes)) or not isinstance(info_filter, collections.abc.Iterable):
    raise TypeError(f'info_filter must be a list of info keys or a callable, not {info_filter!r}')
  keys = tuple(info_filter)
  for key in keys:
    if not isinstance(key, str):
      raise TypeError(f'info_filter keys must be str, not {key!r}')
  return lambda info: {key: info[key] for key in keys if key in info}


def reset_metadata(seed: Optional[int], options: Optional[dict]) -> dict:
  """The episode metadata that a `reset(seed, options)` call contributes."""
  metadata = {}
  if seed is not None:
    metadata['seed'] = seed
  if options is not None:
    metadata['options'] = options
  return metadata


def merge_episode_metadata(reset_meta: dict, value: Any) -> Any:
  """An episode's metadata: the reset arguments merged with episode_fn's value.

  A dict value gets the reset's keys added (a key present in both is an
  error); any other value is stored under 'episode_fn' beside them.
  """
  if not reset_meta:
    return value
  if isinstance(value, collections.abc.Mapping):
    clash = sorted(set(reset_meta).intersection(value), key=str)
    if clash:
      raise ValueError(
        f'episode_fn returned the keys {clash}, which '
        'GymnasiumLogger keeps for the reset() arguments'
      )
    return {**reset_meta, **value}
  return {**reset_meta, 'episode_fn': value}


def step_timestep(result: tuple) -> dm_env.TimeStep:
  """The dm_env timestep of a Gymnasium `step()` result (see module docstring)."""
  observation, reward, terminated, truncated, _ = result
  # The rule is the native recorder's (envlogger/python/encode_step.h).
  step_type, discount = _gym_step_kind(bool(terminated), bool(truncated))
  return _TimeStep(_STEP_TYPES[step_type], float(reward), discount, observation)


class _DmEnvView(dm_env.Environment):
  """The wrapped Gymnasium env as the dm_env.Environment EnvLogger records.

  Holds the last reset()/step() result so that GymnasiumLogger can return it.
  """

  def __init__(self, env: gymnasium.Env, environment_specs: dict):
    self._env = env
    self._specs = {name: spec_codec.decode(value) for name, value in environment_specs.items()}
    self.reset_args: Tuple[Optional[int], Optional[dict]] = (None, None)
    self.result: tuple = ()
    self.info: dict = {}

  def reset(self) -> dm_env.TimeStep:
    seed, options = self.reset_args
    observation, info = self._env.reset(seed=seed, options=options)
    self.result = (observation, info)
    self.info = info
    return _TimeStep(_FIRST, None, None, observation)

  def step(self, action: Any) -> dm_env.TimeStep:
    result = self._env.step(action)
    self.result = result
    self.info = result[4]
    return step_timestep(result)

  def observation_spec(self):
    return self._specs['observation_spec']

  def action_spec(self):
    return self._specs['action_spec']

  def reward_spec(self):
    return self._specs['reward_spec']

  def discount_spec(self):
    return self._specs['discount_spec']

  def close(self) -> None:
    pass  # GymnasiumLogger closes the Gymnasium env itself.


class GymnasiumLogger(gymnasium.Wrapper):
  """Wraps a `gymnasium.Env` and records its episodes (see module docstring).

  Use it as a context manager or call `close()` (closes the env, then the
  dataset). `step()` before the first `reset()`, after an episode ended, or
  after `close()` raises RuntimeError.
  """

  def __init__(
    self,
    env: gymnasium.Env,
    step_fn: Optional[Callable[[dm_env.TimeStep, Any, gymnasium.Env], Any]] = None,
    episode_fn: Optional[Callable[[dm_env.TimeStep, Any, gymnasium.Env], Any]] = None,
    metadata: Optional[dict] = None,
    info_filter: Optional[InfoFilter] = None,
    **envlogger_kwargs,
  ):
    """Initializes the logger.

    Args:
      env: the environment to record.
      step_fn: as EnvLogger's, `step_fn(timestep, action, env)` with the
        dm_env view of the step and the Gymnasium `env`; its value is the
        step's custom data, or `custom_data['step_fn']` with `info_filter`.
      episode_fn: as EnvLogger's (the last non-None value of an episode is
        its metadata), merged with the reset arguments by
        `merge_episode_metadata`.
      metadata: dataset metadata; the specs derived from the spaces are added
        under 'environment_specs'.
      info_filter: store `info` (of reset and of every step) as custom data
        `{'info': filtered}`: a list of keys to keep or a callable
        `info -> value`. None (default) stores no info.
      **envlogger_kwargs: EnvLogger's other arguments: `backend`, and the
        backend's (`data_directory`, `max_episodes_per_file`,
        `writer_options`, `scheduler`, `flush_scheduler`, ...).

    Raises:
      UnsupportedSpaceError: a space cannot be recorded (named by path).
    """
    super().__init__(env)
    self._info_filter = make_info_filter(info_filter)
    self._view = _DmEnvView(
      env, gym_spaces.environment_specs(env.observation_space, env.action_space)
    )
    self._user_episode_fn = episode_fn
    self._reset_meta: dict = {}
    self._logger = environment_logger.EnvLogger(
      self._view,
      step_fn=self._custom_data_fn(step_fn),
      episode_fn=None if episode_fn is None else self._episode_metadata,
      metadata=metadata,
      **envlogger_kwargs,
    )
    # Without step_fn, info_filter and episode_fn, step() records through
    # EnvLogger's plain recorder directly (two Python calls fewer per step),
    # or better, hands the step() result to the Riegeli writer's native
    # recorder (no TimeStep built, no Python call).
    self._record_plain = self._logger._record_plain  # pylint: disable=protected-access
    backend = self._logger._backend  # pylint: disable=protected-access
    gym_step_recorder = getattr(backend, 'gym_step_recorder', None)
    self._record_gym = (
      gym_step_recorder() if self._record_plain is not None and gym_step_recorder else None
    )
    self._episode_running = False
    self._closed = False

  def _custom_data_fn(self, step_fn):
    """EnvLogger's step_fn producing this logger's custom data, or None."""
    env, view, info_filter = self.env, self._view, self._info_filter
    if info_filter is None:
      if step_fn is None:
        return None
      return lambda timestep, action, _: step_fn(timestep, action, env)
    if step_fn is None:
      return lambda timestep, action, _: {'info': info_filter(view.info)}
    return lambda timestep, action, _: {
      'info': info_filter(view.info),
      'step_fn': step_fn(timestep, action, env),
    }

  def _episode_metadata(self, timestep: dm_env.TimeStep, action: Any, _) -> Any:
    value = self._user_episode_fn(timestep, action, self.env)
    if value is None:
      # The reset arguments are the metadata until episode_fn gives some.
      return self._reset_meta if (timestep.first() and self._reset_meta) else None
    return merge_episode_metadata(self._reset_meta, value)

  def _check_open(self, call: str) -> None:
    if self._closed:
      raise RuntimeError(f'GymnasiumLogger.{call}() after close()')

  def reset(
    self, *, seed: Optional[int] = None, options: Optional[dict] = None
  ) -> Tuple[Any, dict]:
    """Resets the env and records the FIRST step of a new episode."""
    self._check_open('reset')
    self._view.reset_args = (seed, options)
    self._reset_meta = reset_metadata(seed, options)
    self._episode_running = False
    self._logger.reset()
    self._episode_running = True
    if self._reset_meta and self._user_episode_fn is None:
      self._logger._backend.set_episode_metadata(self._reset_meta)  # pylint: disable=protected-access
    return self._view.result

  def step(self, action: Any) -> Tuple[Any, float, bool, bool, dict]:
    """Steps the env and records the step (LAST if terminated or truncated)."""
    if not self._episode_running:
      self._check_open('step')
      raise RuntimeError(
        'GymnasiumLogger.step() needs a reset() first: no episode is running '
        '(none was started, or the last one ended)'
      )
    record_gym = self._record_gym
    if record_gym is not None:
      result = self.env.step(action)
      try:
        last = record_gym(result, action)
      except TypeError:
        # Recorded nothing; the plain recorder records it or raises the error
        # that names the bad part.
        last = self._record_result(result, action)
    elif self._record_plain is not None:
      result = self.env.step(action)
      last = self._record_result(result, action)
    else:
      timestep = self._logger.step(action)
      result = self._view.result
      last = timestep.step_type is _LAST
    if last:
      self._episode_running = False
    return result

  def _record_result(self, result: tuple, action: Any) -> bool:
    """Records a step() result through EnvLogger's plain recorder; True if LAST."""
    timestep = step_timestep(result)
    self._record_plain(timestep, action, None, False)
    return timestep.step_type is _LAST

  def close(self) -> None:
    """Closes the environment, then the dataset. Safe to call repeatedly."""
    if self._closed:
      return
    self._closed = True
    self._episode_running = False
    try:
      self.env.close()
    finally:
      self._logger.close()

  def __enter__(self) -> 'GymnasiumLogger':
    return self

  def __exit__(self, *exc_info) -> None:
    self.close()

  def __getstate__(self):
    raise TypeError(
      'GymnasiumLogger instances cannot be pickled; create the '
      'logger inside the process that uses it.'
    )
