"""Catch with image observations: the board drawn on an 84x84x3 uint8 frame (for benchmarks)."""

import dm_env
from dm_env import specs
import numpy as np

from envlogger.testing import catch_env

FRAME_SHAPE = (84, 84, 3)


class PixelCatch(catch_env.Catch):
  """Catch whose observation is its 10x5 board drawn on an 84x84x3 uint8 frame.

  The board, scaled 8x16, fills the red channel inside a 2-pixel border; the
  green channel is a constant 40. Subclasses draw other frames by overriding
  `draw`.
  """

  def draw(self, board: np.ndarray) -> np.ndarray:
    """The frame showing `board` (Catch's float32 observation)."""
    cells = np.kron(board, np.ones((8, 16), np.float32))
    frame = np.zeros(FRAME_SHAPE, np.uint8)
    frame[2:82, 2:82, 0] = (cells * 255).astype(np.uint8)
    frame[..., 1] = 40
    return frame

  def _render(self, timestep: dm_env.TimeStep) -> dm_env.TimeStep:
    return timestep._replace(observation=self.draw(np.asarray(timestep.observation)))

  def reset(self) -> dm_env.TimeStep:
    return self._render(super().reset())

  def step(self, action) -> dm_env.TimeStep:
    return self._render(super().step(action))

  def observation_spec(self):
    return specs.BoundedArray(FRAME_SHAPE, np.uint8, 0, 255, 'frame')
