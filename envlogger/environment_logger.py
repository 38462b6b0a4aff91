"""EnvLogger: a dm_env wrapper that records every step to a backend."""

import collections.abc
from typing import Any, Callable, Optional, Union

import dm_env

from envlogger import environment_wrapper
from envlogger import step_data
from envlogger import writer_name as writer_names
from envlogger.backends import backend_type
from envlogger.backends import backend_writer
from envlogger.converters import spec_codec

_DEFAULT_BACKEND = backend_type.BackendType.RIEGELI

StepFn = Callable[[dm_env.TimeStep, Any, dm_env.Environment], Any]


def _backend_writer_class(backend: backend_type.BackendType) -> type:
  """The writer class of a built-in backend, imported only when needed."""
  if backend == backend_type.BackendType.RIEGELI:
    # Imported lazily: it needs the native extension.
    from envlogger.backends import riegeli_backend_writer  # pylint: disable=g-import-not-at-top

    return riegeli_backend_writer.RiegeliBackendWriter
  from envlogger.backends import in_memory_backend  # pylint: disable=g-import-not-at-top

  return in_memory_backend.InMemoryBackendWriter


def _step_data_recorder(
  backend: backend_writer.BackendWriter,
) -> Callable[[dm_env.TimeStep, Any, Any, bool], None]:
  """Records a step given as its fields through `backend.record_step`."""

  def record(
    timestep: dm_env.TimeStep, action: Any, custom_data: Any, is_new_episode: bool
  ) -> None:
    backend.record_step(step_data.StepData(timestep, action, custom_data), is_new_episode)

  return record


class EnvLogger(environment_wrapper.EnvironmentWrapper):
  """Wraps a dm_env.Environment and records its trajectories.

  Every `reset()` and `step()` produces a `StepData(timestep, action,
  custom_data)` handed to the backend, which may drop it (scheduler) or store
  it. Use it as a context manager, or call `close()`: it closes the
  environment and then the backend (which is what makes a Riegeli dataset
  complete on disk).
  """

  def __init__(
    self,
    env: dm_env.Environment,
    step_fn: Optional[StepFn] = None,
    episode_fn: Optional[StepFn] = None,
    metadata: Optional[dict] = None,
    backend: Union[
      backend_writer.BackendWriter,
      backend_type.BackendType,
      Callable[..., backend_writer.BackendWriter],
    ] = (_DEFAULT_BACKEND),
    writer_name: Optional[str] = None,
    **backend_kwargs,
  ):
    """Initializes the logger.

    Args:
      env: the environment to wrap.
      step_fn: `step_fn(timestep, action, env)` is called for every step
        before it is recorded; its result is the step's `custom_data`.
      episode_fn: `episode_fn(timestep, action, env)` is called after every
        step; each non-None result becomes the current episode's metadata (the
        last one of an episode wins).
      metadata: dataset-level metadata (a dict). The environment specs are
        added under `'environment_specs'` in a copy; the caller's dict is not
        modified (upstream modified it).
      backend: a `BackendWriter` instance (used as is: `metadata` and
        `backend_kwargs` are then ignored, so the specs are not recorded), a
        `BackendType` (RIEGELI by default) or a callable returning a
        `BackendWriter`, called with `metadata=` and `backend_kwargs`.
      **backend_kwargs: arguments of the backend writer, e.g.
        `data_directory`, `max_episodes_per_file`, `writer_options`,
        `flush_scheduler` and `scheduler` for RIEGELI.
      writer_name: records into `<data_directory>/<writer_name>/` (an
        ordinary dataset) instead of `data_directory`, so that any number of
        processes can record into one root `data_directory`, each with its
        own name (e.g. `envlogger.unique_writer_name()`); read the root with
        `envlogger.Reader(data_directory)`. The name is held until `close()`.
        Needs the RIEGELI backend (or a callable taking `data_directory`).

    Raises:
      envlogger.WriterNameTakenError: another live process records under
        `writer_name` in this root.
    """
    super().__init__(env)
    self._claim = None
    if writer_name is not None:
      if (
        isinstance(backend, backend_writer.BackendWriter) or 'data_directory' not in backend_kwargs
      ):
        raise ValueError(
          'writer_name needs data_directory= (the root) and a backend that '
          'EnvLogger creates (not a BackendWriter instance)'
        )
      self._claim = writer_names.WriterClaim(backend_kwargs['data_directory'], writer_name)
      backend_kwargs['data_directory'] = self._claim.directory
    try:
      self._init_backend(env, metadata, backend, backend_kwargs)
    except BaseException:
      if self._claim is not None:
        self._claim.release()
      raise
    self._step_fn = step_fn
    self._episode_fn = episode_fn
    self._reset_next_step = True
    # All that recording a step takes when there is no step_fn or episode_fn
    # (one attribute load: EnvLogger's loads are slow, it has __getattr__).
    self._record_plain = self._record_fields if step_fn is None and episode_fn is None else None

  def _init_backend(
    self, env: dm_env.Environment, metadata: Optional[dict], backend: Any, backend_kwargs: dict
  ) -> None:
    """Creates (or adopts) the backend and its step recorder."""
    if isinstance(backend, backend_writer.BackendWriter):
      self._backend = backend
    else:
      if metadata is not None and not isinstance(metadata, collections.abc.Mapping):
        raise TypeError(f'metadata must be a dict, not {type(metadata).__name__}')
      metadata = dict(metadata or {})
      metadata['environment_specs'] = spec_codec.encode_environment_specs(env)
      backend_kwargs['metadata'] = metadata
      if isinstance(backend, backend_type.BackendType):
        backend = _backend_writer_class(backend)
      self._backend = backend(**backend_kwargs)
    # The hot path: a backend may take a step as its fields (the Riegeli
    # writer does, saving the StepData and three Python calls per step); any
    # other backend gets a StepData through `record_step`.
    # Neither refers back to this logger, so dropping it still closes the
    # backend right away (by reference counting, not at the next GC).
    step_recorder = (
      self._backend.step_recorder()
      if isinstance(self._backend, backend_writer.BackendWriter)
      else None
    )
    self._record_fields = step_recorder or _step_data_recorder(self._backend)

  def __getstate__(self):
    raise TypeError(
      'EnvLogger instances cannot be serialized/pickled. Create the '
      'EnvLogger instance within the worker process using an environment '
      'factory function instead.'
    )

  def __setstate__(self, state):
    self.__getstate__()

  def reset(self) -> dm_env.TimeStep:
    """Resets the environment and records the first step of a new episode."""
    self._reset_next_step = False
    timestep = self._environment.reset()
    record_plain = self._record_plain
    if record_plain is not None:
      record_plain(timestep, None, None, True)
    else:
      self._record(timestep, None, True)
    return timestep

  def step(self, action: Any) -> dm_env.TimeStep:
    """Steps the environment and records the step.

    As upstream: if a reset is due (before the very first `reset()`, or after
    a LAST step) this calls `reset()` instead, ignores `action` and returns
    the FIRST timestep.
    """
    if self._reset_next_step:
      return self.reset()
    timestep = self._environment.step(action)
    self._reset_next_step = timestep.last()
    record_plain = self._record_plain
    if record_plain is not None:
      record_plain(timestep, action, None, False)
    else:
      self._record(timestep, action, False)
    return timestep

  def _record(self, timestep: dm_env.TimeStep, action: Any, is_new_episode: bool) -> None:
    """Records a step with `step_fn`'s custom data, then calls `episode_fn`."""
    custom_data = None
    if self._step_fn is not None:
      custom_data = self._step_fn(timestep, action, self._environment)
    self._record_fields(timestep, action, custom_data, is_new_episode)
    if self._episode_fn is not None:
      episode_metadata = self._episode_fn(timestep, action, self._environment)
      if episode_metadata is not None:
        self._backend.set_episode_metadata(episode_metadata)

  def close(self) -> None:
    """Closes the environment, then the backend. Safe to call repeatedly."""
    try:
      self._environment.close()
      self._backend.close()
    finally:
      if self._claim is not None:
        self._claim.release()
