"""Catch: a small deterministic-per-seed dm_env used by examples and tests.

A ball falls from the top row of a `rows x columns` board, one row per step,
starting in a random column; the agent moves a paddle on the bottom row left,
not at all, or right (actions 0, 1, 2). When the ball reaches the bottom row
the episode ends with reward +1 if the paddle is under it, -1 otherwise. With
the defaults an episode has 10 timesteps (FIRST, 8 MID, LAST).

Same dynamics, specs and random stream as upstream's Catch: for a given seed
both produce identical trajectories under identical actions.
"""

import dm_env
from dm_env import specs
import numpy as np

_ACTIONS = (-1, 0, 1)  # Left, no-op, right.


class Catch(dm_env.Environment):
  """A Catch environment with a float32 board observation."""

  def __init__(self, rows: int = 10, columns: int = 5, seed: int = 1):
    """Initializes the environment.

    Args:
      rows: board height; an episode has `rows` timesteps.
      columns: board width.
      seed: seed of the `np.random.RandomState` drawing the ball's column.
    """
    self._rows = rows
    self._columns = columns
    self._rng = np.random.RandomState(seed)
    self._board = np.zeros((rows, columns), dtype=np.float32)
    self._ball_x = None
    self._ball_y = None
    self._paddle_x = None
    self._paddle_y = self._rows - 1
    self._reset_next_step = True

  def reset(self) -> dm_env.TimeStep:
    """Starts an episode: ball in a random column of row 0, paddle centered."""
    self._reset_next_step = False
    self._ball_x = self._rng.randint(self._columns)
    self._ball_y = 0
    self._paddle_x = self._columns // 2
    return dm_env.restart(self._observation())

  def step(self, action: int) -> dm_env.TimeStep:
    """Moves the paddle by `_ACTIONS[action]`, then the ball down one row.

    If the previous step ended the episode (or no episode was started), this
    resets instead and `action` is ignored.
    """
    if self._reset_next_step:
      return self.reset()
    dx = _ACTIONS[action]
    self._paddle_x = int(np.clip(self._paddle_x + dx, 0, self._columns - 1))
    self._ball_y += 1
    if self._ball_y == self._paddle_y:
      reward = 1.0 if self._paddle_x == self._ball_x else -1.0
      self._reset_next_step = True
      return dm_env.termination(reward=reward, observation=self._observation())
    return dm_env.transition(reward=0.0, observation=self._observation())

  def observation_spec(self) -> specs.BoundedArray:
    return specs.BoundedArray(
      shape=self._board.shape, dtype=self._board.dtype, name='board', minimum=0, maximum=1
    )

  def action_spec(self) -> specs.DiscreteArray:
    return specs.DiscreteArray(dtype=int, num_values=len(_ACTIONS), name='action')

  def _observation(self) -> np.ndarray:
    self._board.fill(0.0)
    self._board[self._ball_y, self._ball_x] = 1.0
    self._board[self._paddle_y, self._paddle_x] = 1.0
    return self._board.copy()
