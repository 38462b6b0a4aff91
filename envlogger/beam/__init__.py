"""Apache Beam transforms over envlogger datasets (the `beam` extra).

    import apache_beam as beam
    from envlogger import beam as envlogger_beam

    with beam.Pipeline() as p:
      (p | envlogger_beam.ReadEpisodes('/data/experiment')
         | beam.Map(lambda episode: len(episode['steps']['step_type'])))

* `ReadEpisodes(path_or_glob)`: episodes of a dataset, root of writers, glob or
  list, the work split by writer and episode range (read.py).
* `WriteDataset(path)`: writes episodes as a root, one writer directory per
  bundle (write.py).
* `ComputeStats()`: per-field mean/std/min/max, episode returns and lengths
  (stats.py).
* `pipelines`: the runnable conversions and statistics behind
  `python -m envlogger.beam` (pipelines.py).

Needs `pip install envlogger[beam]`.
"""

try:
  import apache_beam  # pylint: disable=g-import-not-at-top,unused-import  # noqa: F401
except ImportError as e:
  raise ImportError(f'envlogger.beam needs Apache Beam: pip install envlogger[beam] ({e})') from e

from envlogger.beam.read import ReadEpisodes  # pylint: disable=g-import-not-at-top
from envlogger.beam.stats import ComputeStats  # pylint: disable=g-import-not-at-top
from envlogger.beam.write import WriteDataset  # pylint: disable=g-import-not-at-top

__all__ = ['ReadEpisodes', 'WriteDataset', 'ComputeStats']
