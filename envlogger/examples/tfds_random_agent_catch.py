r"""Records a random agent playing Catch straight into a TFDS (RLDS) dataset.

  python -m envlogger.examples.tfds_random_agent_catch --num_episodes=100 \
      --trajectories_dir=/tmp/catch_tfds/

The flags are those of `random_agent_catch` (same loop, same metadata); only
the backend differs: a `TFDSBackendWriter` with the Catch DatasetConfig.
Read the result with
`tfds.builder_from_directory(dir).as_dataset(split='train')`.
"""

import os
from typing import Optional

from absl import app
from absl import flags
from absl import logging
import envlogger
from envlogger import extras
from envlogger.examples import random_agent_catch
import numpy as np

tfds = extras.import_extra(
  'tensorflow_datasets', 'tf', 'envlogger.examples.tfds_random_agent_catch', 'TensorFlow Datasets'
)
# pylint: disable=g-import-not-at-top,wrong-import-position
from envlogger.backends import tfds_backend_writer  # noqa: E402

FLAGS = flags.FLAGS


def catch_dataset_config() -> tfds_backend_writer.DatasetConfig:
  """Catch's features: a ZLIB-compressed (10, 5) float32 board per step.

  Upstream declared the timestamp as float32, which keeps a wall-clock time
  only to about two minutes; it is float64 here, stored as raw bytes
  (tf.train.Example would round a float64 to float32).
  """
  return tfds_backend_writer.DatasetConfig(
    name='catch_example',
    observation_info=tfds.features.Tensor(
      shape=(10, 5), dtype=np.float32, encoding=tfds.features.Encoding.ZLIB
    ),
    action_info=np.int64,
    reward_info=np.float64,
    discount_info=np.float64,
    step_metadata_info={
      'timestamp': tfds.features.Tensor(
        shape=(), dtype=np.float64, encoding=tfds.features.Encoding.BYTES
      )
    },
  )


def record_to_tfds(
  num_episodes: int, data_directory: str, rng: Optional[np.random.Generator] = None
) -> None:
  """Plays `num_episodes` random Catch episodes into a TFDS dataset."""

  def make_logger(env, metadata, step_fn):
    writer = tfds_backend_writer.TFDSBackendWriter(
      data_directory=data_directory,
      split_name='train',
      max_episodes_per_file=500,
      ds_config=catch_dataset_config(),
      metadata=metadata,
      store_ds_metadata=True,
    )
    return envlogger.EnvLogger(env, step_fn=step_fn, backend=writer)

  random_agent_catch.record(num_episodes, make_logger, rng)


def main(unused_argv) -> None:
  data_directory = FLAGS.trajectories_dir
  os.makedirs(data_directory, exist_ok=True)
  logging.info('Recording %d episodes to %s', FLAGS.num_episodes, data_directory)
  record_to_tfds(FLAGS.num_episodes, data_directory)
  builder = tfds.builder_from_directory(data_directory)
  print(f'episodes: {builder.info.splits["train"].num_examples}')


if __name__ == '__main__':
  app.run(main)
