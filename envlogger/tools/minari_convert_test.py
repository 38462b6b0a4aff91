"""Tests of `envlogger convert --to minari / --from minari` with the real minari."""

import argparse
import contextlib
import io
import os
import subprocess
import sys

from absl.testing import absltest
import minari
import numpy as np

import envlogger
from envlogger.testing import child_env
from envlogger.testing import gym_toy_envs
from envlogger.testing import minari_case
from envlogger.tools import convert
from envlogger.tools import minari_convert


def _record(directory, seeds, info_filter=None):
  """Records one CountingEnv episode per seed; returns the env's returns."""
  traces = []
  with envlogger.GymnasiumLogger(
    gym_toy_envs.CountingEnv(2, 4), data_directory=directory, info_filter=info_filter
  ) as logger:
    for seed in seeds:
      observation, _ = logger.reset(seed=seed)
      trace = {'observations': [observation], 'actions': [], 'rewards': []}
      done = False
      while not done:
        action = logger.action_space.sample()
        observation, reward, terminated, truncated, _ = logger.step(action)
        trace['observations'].append(observation)
        trace['actions'].append(action)
        trace['rewards'].append(reward)
        done = terminated or truncated
      traces.append(trace)
  return traces


class MinariConvertTest(minari_case.MinariRootTestCase):
  def run_main(self, *argv):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
      status = minari_convert.main(argv)
    return status, out.getvalue(), err.getvalue()

  def test_to_and_from_minari(self):
    source = os.path.join(self.tmp, 'source')
    traces = _record(source, [3, 4, 5])

    status, out, _ = self.run_main(
      '--to', 'minari', source, 'cli/counting-v0', '--author', 'me', '--data_format', 'arrow'
    )

    self.assertEqual(status, 0)
    steps = sum(len(t['actions']) for t in traces)
    self.assertIn(f'3 episodes, {steps} steps', out)
    dataset = minari.load_dataset('cli/counting-v0')
    self.assertEqual(dataset.storage.FORMAT, 'arrow')
    self.assertEqual(dataset.storage.metadata['author'], {'me'})
    for trace, episode in zip(traces, dataset.iterate_episodes()):
      np.testing.assert_array_equal(np.stack(trace['observations']), episode.observations)
      np.testing.assert_array_equal(trace['actions'], episode.actions)
      np.testing.assert_array_equal(trace['rewards'], episode.rewards)

    back = os.path.join(self.tmp, 'back')
    status, out, _ = self.run_main(
      '--from', 'minari', 'cli/counting-v0', back, '--max_episodes_per_file', '1'
    )

    self.assertEqual(status, 0)
    self.assertIn(back, out)
    with envlogger.Reader(back) as reader:
      self.assertEqual([m['seed'] for m in reader.episode_metadata()], [3, 4, 5])
      for trace, episode in zip(traces, reader.episodes):
        steps = list(episode)
        np.testing.assert_array_equal(
          np.stack(trace['observations']), np.stack([s.timestep.observation for s in steps])
        )
        self.assertEqual(trace['actions'], [s.action for s in steps[1:]])
        self.assertEqual(trace['rewards'], [s.timestep.reward for s in steps[1:]])
    # --max_episodes_per_file 1: one shard directory per episode.
    shards = [d for d in os.listdir(back) if os.path.isdir(os.path.join(back, d))]
    self.assertLen(shards, 3)

  def test_bad_input_is_status_2_with_the_reason(self):
    missing = os.path.join(self.tmp, 'missing')
    status, _, err = self.run_main('--to', 'minari', missing, 'cli/x-v0')
    self.assertEqual(status, 2)
    self.assertIn(missing, err)

    status, _, err = self.run_main(
      '--from', 'minari', 'cli/unknown-v0', os.path.join(self.tmp, 'out')
    )
    self.assertEqual(status, 2)
    self.assertIn('cli/unknown-v0', err)
    self.assertFalse(os.path.exists(os.path.join(self.tmp, 'out')))

  def test_registers_as_envlogger_convert(self):
    source = os.path.join(self.tmp, 'source')
    traces = _record(source, [8], info_filter=['t'])  # Left out by --no_infos.
    parser = argparse.ArgumentParser(prog='envlogger')
    convert.register(parser.add_subparsers(dest='command'))

    args = parser.parse_args(
      ['convert', '--to', 'minari', source, 'cli/registered-v0', '--no_infos']
    )
    with contextlib.redirect_stdout(io.StringIO()):
      self.assertEqual(args.run(args), 0)

    episode = next(iter(minari.load_dataset('cli/registered-v0').iterate_episodes()))
    np.testing.assert_array_equal(traces[0]['actions'], episode.actions)
    np.testing.assert_array_equal(traces[0]['rewards'], episode.rewards)
    self.assertIsNone(episode.infos)

  def test_import_does_not_import_minari(self):
    code = (
      'import sys, envlogger.tools.minari_convert\n'
      'print("minari" in sys.modules, "gymnasium" in sys.modules)'
    )
    output = child_env.run_python(code)
    self.assertEqual(output.split(), ['False', 'False'])

  def test_usage_error_exits_2(self):
    result = subprocess.run(
      [sys.executable, '-m', 'envlogger.tools.minari_convert', '--to', 'tfds', 'a', 'b'],
      capture_output=True,
      text=True,
      check=False,
    )
    self.assertEqual(result.returncode, 2)
    self.assertIn("invalid choice: 'tfds'", result.stderr)


if __name__ == '__main__':
  absltest.main()
