"""Writes an envlogger dataset (root, glob, list) as a TFDS dataset of RLDS episodes with Beam.

The episodes are produced by `ReadEpisodes` and written by TFDS's own Beam
support (`tfds.dataset_builders.store_as_tfds_dataset` with a PTransform as
the split), so the conversion runs on whatever runner the options name. The
features and the step layout are those of `envlogger/tools/convert_riegeli_to_tfds.py`
(one rule in one place); examples are keyed by global episode index and
written in that order (TFDS `disable_shuffling`).
"""

from __future__ import annotations

from typing import Any, Dict, Iterator, Optional, Tuple

import apache_beam as beam

from envlogger import reader as reader_lib
from envlogger.beam import read


def _rlds_example(
  episode: Dict[str, Any], placeholders: Dict[str, Any], with_metadata: bool
) -> Iterator[Tuple[int, Dict[str, Any]]]:
  from envlogger.backends import rlds_utils  # pylint: disable=g-import-not-at-top

  steps = episode['steps']
  rlds_steps = [rlds_utils.to_rlds_step(steps[i], steps[i + 1]) for i in range(len(steps) - 1)]
  rlds_steps.append(rlds_utils.to_rlds_step(steps[-1], None, placeholders))
  example = {'steps': rlds_steps}
  if with_metadata:
    example.update(episode['metadata'] or {})
  yield episode['episode'], example


class _RldsExamples(beam.PTransform):
  """(global episode index, RLDS episode) of every episode of `source`."""

  def __init__(self, source: Any, placeholders: Dict[str, Any], with_metadata: bool):
    super().__init__()
    self._source = source
    self._placeholders = placeholders
    self._with_metadata = with_metadata

  def expand(self, pbegin: beam.pvalue.PBegin) -> beam.PCollection:
    return (
      pbegin
      | 'ReadEpisodes' >> read.ReadEpisodes(self._source, arrays=False)
      | 'ToRlds' >> beam.FlatMap(_rlds_example, self._placeholders, self._with_metadata)
    )


def write_rlds(
  source: Any,
  output_dir: str,
  dataset_name: str = 'envlogger_dataset',
  version: str = '0.0.1',
  split: str = 'train',
  options: Optional[beam.options.pipeline_options.PipelineOptions] = None,
) -> str:
  """Converts `source` into the TFDS dataset `<output_dir>/<dataset_name>/<version>`.

  Returns that directory (open it with `tfds.builder_from_directory`).

  Raises:
    ValueError: the dataset is empty or a spec has no RLDS feature.
    RuntimeError: that TFDS dataset already exists.
  """
  try:
    import tensorflow_datasets as tfds  # pylint: disable=g-import-not-at-top
    from envlogger.backends import tfds_backend_writer  # pylint: disable=g-import-not-at-top
    from envlogger.tools import convert_riegeli_to_tfds  # pylint: disable=g-import-not-at-top
  except ImportError as e:
    raise ImportError(
      f'Converting to RLDS needs TensorFlow Datasets: pip install envlogger[beam,tf] ({e})'
    ) from e
  with reader_lib.Reader(source) as reader:
    config = convert_riegeli_to_tfds.dataset_config_from_reader(reader, dataset_name)
  identity = tfds.core.dataset_info.DatasetIdentity(
    name=dataset_name, version=tfds.core.Version(version), data_dir=output_dir, module_name=''
  )
  loadable = tfds_backend_writer._loadable_config(config)  # pylint: disable=protected-access
  features = tfds.rlds.rlds_base.build_info(loadable, identity, None).features
  placeholders = {
    key: tfds_backend_writer.zeros_for_feature(feature)
    for key, feature in (
      ('action', config.action_info),
      ('reward', config.reward_info),
      ('discount', config.discount_info),
    )
    if feature
  }
  builder = _adhoc_builder_class(tfds)(
    name=dataset_name,
    version=version,
    features=features,
    split_datasets={split: _RldsExamples(source, placeholders, bool(config.episode_metadata_info))},
    data_dir=output_dir,
    disable_shuffling=True,
  )
  if builder.is_prepared():
    raise RuntimeError(f'The TFDS dataset {builder.data_path} already exists')
  builder.download_and_prepare(download_config=tfds.download.DownloadConfig(beam_options=options))
  return str(builder.data_path)


def _adhoc_builder_class(tfds: Any) -> type:
  """TFDS's AdhocBuilder without a code directory.

  An ad-hoc dataset has no source file beside which TFDS would keep download
  checksums; looking for one imports `importlib_resources`, which TFDS does
  not always install.
  """

  class _Builder(tfds.dataset_builders.AdhocBuilder, skip_registration=True):
    code_path = None

  return _Builder
