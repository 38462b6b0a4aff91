"""Tests of EpisodeInfo."""

import random

from envlogger.backends.python import episode_info


def test_empty_episode_info():
  info = episode_info.EpisodeInfo()
  assert (info.start, info.num_steps, info.metadata) == (0, 0, None)


def test_episode_info_init_with_random_kwargs():
  rng = random.Random(0)
  for _ in range(20):
    start, num_steps = rng.randrange(10**9), rng.randrange(10**6)
    metadata = {'x': rng.random()}
    info = episode_info.EpisodeInfo(start=start, num_steps=num_steps, metadata=metadata)
    assert (info.start, info.num_steps, info.metadata) == (start, num_steps, metadata)
    assert episode_info.EpisodeInfo(start, num_steps).num_steps == num_steps


def test_attributes_are_writable():
  info = episode_info.EpisodeInfo()
  info.start, info.num_steps, info.metadata = 5, 7, 'm'
  assert (info.start, info.num_steps, info.metadata) == (5, 7, 'm')
  assert repr(info) == "EpisodeInfo(start=5, num_steps=7, metadata='m')"
