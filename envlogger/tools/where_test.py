"""Tests of the `--where` language: parsing, evaluation, and hostile input refused."""

import builtins
import os

from absl.testing import absltest
from absl.testing import parameterized

from envlogger.testing import upstream_fixtures
from envlogger.tools import cli_testlib
from envlogger.tools import where


def _episode(index=0, length=10, episode_return=1.0, metadata=None):
  return where.Episode(index=index, length=length, episode_return=episode_return, metadata=metadata)


class WhereTest(parameterized.TestCase):
  @parameterized.parameters(
    ('return > 0', {}, True),
    ('return > 0', {'episode_return': -1.0}, False),
    ('return >= 1 and length < 50', {}, True),
    ('return >= 1 and length < 5', {}, False),
    ('length == 10 or index == 3', {'length': 9, 'index': 3}, True),
    ('not index == 3', {'index': 3}, False),
    ('not (index == 3 or length == 10)', {'index': 4, 'length': 9}, True),
    ('return == -1.5e0', {'episode_return': -1.5}, True),
    ('return != .5', {'episode_return': 0.5}, False),
    ('index <= 2 and index >= 2', {'index': 2}, True),
    ('1 < length', {}, True),
    ('metadata.task == "pick"', {'metadata': {'task': 'pick'}}, True),
    ("metadata.task == 'pi\\'ck'", {'metadata': {'task': "pi'ck"}}, True),
    ('metadata.task != "pick"', {'metadata': {'task': 'place'}}, True),
    ('metadata.a.b >= 3', {'metadata': {'a': {'b': 3}}}, True),
    ('metadata.a.0 == 7', {'metadata': {'a': {0: 7}}}, True),
    ('metadata.a == 1', {'metadata': {'a': True}}, True),
    ('metadata.a == "x"', {'metadata': {'a': b'x'}}, True),
    # A missing value makes every comparison false, != too.
    ('metadata.task == "pick"', {'metadata': None}, False),
    ('metadata.task != "pick"', {'metadata': {}}, False),
    ('metadata.task.x == 1', {'metadata': {'task': 'pick'}}, False),
    ('return < 0', {'episode_return': None}, False),
    ('not return < 0', {'episode_return': None}, True),
    # Mixed types: == is false, != true.
    ('metadata.task == 3', {'metadata': {'task': '3'}}, False),
    ('metadata.task != 3', {'metadata': {'task': '3'}}, True),
    ('length>3and index<1', {}, True),  # No spaces needed around operators.
  )
  def test_evaluation(self, text, fields, expected):
    self.assertEqual(where.Expression(text).matches(_episode(**fields)), expected, text)

  def test_precedence_and_binds_tighter_than_or(self):
    e = where.Expression('index == 1 or index == 2 and length == 0')
    self.assertTrue(e.matches(_episode(index=1, length=5)))
    self.assertFalse(e.matches(_episode(index=2, length=5)))

  def test_ordering_string_and_number_is_an_error(self):
    with self.assertRaisesRegex(where.WhereError, 'a string and a number'):
      where.Expression('metadata.task < 3').matches(_episode(metadata={'task': 'a'}))

  @parameterized.parameters(
    ("__import__('os')", "unknown name '__import__'"),
    ("__import__('os').system('touch /tmp/pwned')", "unknown name '__import__'"),
    ('return.__class__', "'return' has no fields"),
    ('length.real > 0', "'length' has no fields"),
    ('metadata.__class__ == 1', 'may not start with "__"'),
    ('metadata.x.__globals__ == 1', 'may not start with "__"'),
    ('f() > 1', "unknown name 'f'"),
    ('return() > 1', 'calls are not allowed'),
    ('metadata.x(1) > 1', 'calls are not allowed'),
    ('lambda: 1', "unknown name 'lambda'"),
    ('eval("1") == 1', "unknown name 'eval'"),
    ('foo > 1', "unknown name 'foo'"),
    ('metadata > 1', 'metadata needs a key'),
    ('return[0] > 1', "unexpected character '\\['"),
    ('{1: 2} == 1', "unexpected character '{'"),
    ('(1, 2) == 1', "unexpected character ','"),
    ('return > 0; import os', "unexpected character ';'"),
    ('return > 0 and', 'found the end'),
    ('return', 'expected a comparison'),
    ('1 < return < 3', 'chained comparison'),
    ('return = 1', "unexpected character '='"),
    ('"abc', 'unterminated string'),
    ('(return > 1', 'expected "\\)"'),
    ('return > 1)', "unexpected '\\)'"),
    ('- - 1 > 0', 'expected a number after "-"'),
    ('', 'found the end'),
    ('(' * 40 + 'index > 1' + ')' * 40, 'nested more than'),
    ('not ' * 40 + 'index > 1', 'nested more than'),
    ('index > 1 or ' * 100 + 'index > 1', 'characters long'),
  )
  def test_hostile_or_malformed_expressions_are_refused(self, text, message):
    with self.assertRaisesRegex(where.WhereError, message):
      where.Expression(text)

  def test_no_python_evaluation(self):
    """The evaluator never reaches eval/exec/compile, whatever the text."""
    calls = []
    originals = {name: getattr(builtins, name) for name in ('eval', 'exec', 'compile')}

    def spy(name):
      def wrapper(*args, **kwargs):
        calls.append(name)
        return originals[name](*args, **kwargs)

      return wrapper

    try:
      for name in originals:
        setattr(builtins, name, spy(name))
      e = where.Expression('return > 0 and (metadata.a == "x" or not length < 3)')
      e.matches(_episode(metadata={'a': 'x'}))
    finally:
      for name, original in originals.items():
        setattr(builtins, name, original)
    self.assertEqual(calls, [])

  @parameterized.parameters(
    "__import__('os').system('touch {marker}')",
    'return.__class__ > 0',
    'f() == 1',
    'lambda x: x',
    'metadata.__dict__ == 1',
    'x' * 2000,
  )
  def test_cli_refuses_hostile_expressions(self, text):
    tmp = cli_testlib.temp_dir(self)
    marker = os.path.join(tmp, 'pwned')
    dst = os.path.join(tmp, 'dst')
    status, _, err = cli_testlib.run(
      'filter',
      os.path.join(upstream_fixtures.DIRECTORY, 'catch_default'),
      '-o',
      dst,
      '--where',
      text.format(marker=marker),
    )
    self.assertEqual(status, 2)
    self.assertIn('bad --where expression', err)
    self.assertEqual(os.listdir(tmp), [])


if __name__ == '__main__':
  absltest.main()
