"""The `--where` language of `envlogger filter`: which episodes to keep.

An expression is read by its own tokenizer and recursive-descent parser into
a small tree that `Expression.matches` evaluates; user text is never handed
to Python's eval, compile or ast. The language:

  expression := or
  or         := and ('or' and)*
  and        := not ('and' not)*
  not        := 'not' not | '(' expression ')' | comparison
  comparison := operand OP operand       OP: < <= > >= == !=
  operand    := NUMBER | STRING | NAME | '-' NUMBER

* NUMBER: `3`, `-1.5`, `2e3`. STRING: in single or double quotes; a
  backslash escapes the next character.
* NAME: `return` (the sum of the episode's scalar rewards), `length` (its
  number of steps), `index` (its position in the dataset, from 0), or
  `metadata.KEY`: a value of the episode's metadata dict, dotted for nested
  keys (`metadata.task.id`); a key made of digits also finds an int key.
* A comparison with a missing value (a metadata key the episode does not
  have, a return of non-numeric rewards) is false, whatever the operator.
  Numbers compare with numbers and strings with strings; `==` between a
  number and a string is false and `!=` true, `<` and friends are an error.

Examples: `return > 0 and length < 50`, `not (index < 10)`,
`metadata.task == "pick" or metadata.seed >= 3`.

Anything else (an unknown name, attribute access such as `return.real` or
`metadata.__class__`, calls, brackets, commas, lambdas, more than
MAX_LENGTH characters or MAX_DEPTH nested parentheses) is refused with a
`WhereError` naming what and where.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any, Optional

MAX_LENGTH = 1000
MAX_DEPTH = 32

NAMES = ('return', 'length', 'index', 'metadata')
_KEYWORDS = ('and', 'or', 'not')
_OPERATORS = ('<=', '>=', '==', '!=', '<', '>')
_NUMBER = re.compile(r'(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?')
_IDENTIFIER = re.compile(r'[A-Za-z_][A-Za-z0-9_]*')
_KEY = re.compile(r'[A-Za-z0-9_]+')


class WhereError(ValueError):
  """A `--where` expression that is not in the language, or cannot be evaluated."""


@dataclasses.dataclass(frozen=True)
class _Token:
  kind: str  # 'num', 'str', 'name', 'op', 'kw', '(', ')', '-', 'end'
  value: Any
  pos: int


def _tokenize(text: str) -> list[_Token]:
  tokens, i = [], 0
  while i < len(text):
    c = text[i]
    if c.isspace():
      i += 1
    elif c in '()-':
      tokens.append(_Token(c, c, i))
      i += 1
    elif text.startswith(_OPERATORS, i):
      op = next(o for o in _OPERATORS if text.startswith(o, i))
      tokens.append(_Token('op', op, i))
      i += len(op)
    elif c.isdigit() or (c == '.' and i + 1 < len(text) and text[i + 1].isdigit()):
      m = _NUMBER.match(text, i)
      tokens.append(_Token('num', float(m.group()), i))
      i = m.end()
    elif c in '"\'':
      i = _string(text, i, tokens)
    elif _IDENTIFIER.match(text, i):
      i = _name(text, i, tokens)
    else:
      raise WhereError(f'unexpected character {c!r} at position {i}')
  tokens.append(_Token('end', None, len(text)))
  return tokens


def _string(text: str, start: int, tokens: list[_Token]) -> int:
  quote, i, chars = text[start], start + 1, []
  while i < len(text):
    if text[i] == '\\' and i + 1 < len(text):
      chars.append(text[i + 1])
      i += 2
    elif text[i] == quote:
      tokens.append(_Token('str', ''.join(chars), start))
      return i + 1
    else:
      chars.append(text[i])
      i += 1
  raise WhereError(f'unterminated string starting at position {start}')


def _name(text: str, start: int, tokens: list[_Token]) -> int:
  m = _IDENTIFIER.match(text, start)
  word, i = m.group(), m.end()
  if word in _KEYWORDS:
    tokens.append(_Token('kw', word, start))
    return i
  if word not in NAMES:
    raise WhereError(
      f'unknown name {word!r} at position {start}; the names are '
      + ', '.join(n if n != 'metadata' else 'metadata.KEY' for n in NAMES)
    )
  keys = []
  while i < len(text) and text[i] == '.':
    k = _KEY.match(text, i + 1)
    if not k:
      raise WhereError(f'expected a key after "." at position {i}')
    if word != 'metadata':
      raise WhereError(f'{word!r} has no fields (position {i})')
    if k.group().startswith('__'):
      raise WhereError(
        f'metadata key {k.group()!r} at position {i + 1} is not allowed '
        '(keys may not start with "__")'
      )
    keys.append(k.group())
    i = k.end()
  if word == 'metadata' and not keys:
    raise WhereError(f'metadata needs a key, e.g. metadata.seed (position {start})')
  if i < len(text) and text[i] == '(':
    raise WhereError(f'calls are not allowed: {text[start:i]}( at position {start}')
  tokens.append(_Token('name', (word,) + tuple(keys), start))
  return i


class _Parser:
  """Recursive descent over the tokens; builds tuples ('or', a, b), ('cmp', op, l, r), ..."""

  def __init__(self, tokens: list[_Token]):
    self._tokens = tokens
    self._i = 0
    self._depth = 0

  def _peek(self) -> _Token:
    return self._tokens[self._i]

  def _take(self) -> _Token:
    token = self._tokens[self._i]
    self._i += 1
    return token

  def parse(self) -> tuple:
    tree = self._or()
    token = self._peek()
    if token.kind != 'end':
      raise WhereError(f'unexpected {token.value!r} at position {token.pos}')
    return tree

  def _or(self) -> tuple:
    tree = self._and()
    while self._peek().value == 'or' and self._peek().kind == 'kw':
      self._take()
      tree = ('or', tree, self._and())
    return tree

  def _and(self) -> tuple:
    tree = self._not()
    while self._peek().value == 'and' and self._peek().kind == 'kw':
      self._take()
      tree = ('and', tree, self._not())
    return tree

  def _not(self) -> tuple:
    token = self._peek()
    if token.kind == 'kw' and token.value == 'not':
      self._take()
      return ('not', self._nested(self._not))
    if token.kind == '(':
      self._take()
      tree = self._nested(self._or)
      close = self._take()
      if close.kind != ')':
        raise WhereError(f'expected ")" at position {close.pos}')
      return tree
    return self._comparison()

  def _nested(self, parse) -> tuple:
    self._depth += 1
    if self._depth > MAX_DEPTH:
      raise WhereError(f'expression nested more than {MAX_DEPTH} deep')
    tree = parse()
    self._depth -= 1
    return tree

  def _comparison(self) -> tuple:
    left = self._operand()
    op = self._take()
    if op.kind != 'op':
      raise WhereError(
        f'expected a comparison (< <= > >= == !=) at position {op.pos}, '
        f'found {op.value if op.kind != "end" else "the end"!r}'
      )
    right = self._operand()
    if self._peek().kind == 'op':
      raise WhereError(f'chained comparison at position {self._peek().pos}: use "and"')
    return ('cmp', op.value, left, right)

  def _operand(self) -> tuple:
    token = self._take()
    if token.kind == '-':
      number = self._take()
      if number.kind != 'num':
        raise WhereError(f'expected a number after "-" at position {number.pos}')
      return ('value', -number.value)
    if token.kind in ('num', 'str'):
      return ('value', token.value)
    if token.kind == 'name':
      return ('name', token.value)
    found = 'the end' if token.kind == 'end' else repr(token.value)
    raise WhereError(
      f'expected a number, a string or a name at position {token.pos}, found {found}'
    )


_MISSING = object()


@dataclasses.dataclass
class Episode:
  """What an expression can see of an episode."""

  index: int
  length: int
  episode_return: Optional[float]
  metadata: Any


class Expression:
  """A parsed `--where` expression: `Expression(text).matches(episode)`."""

  def __init__(self, text: str):
    if len(text) > MAX_LENGTH:
      raise WhereError(f'expression is {len(text)} characters long; at most {MAX_LENGTH}')
    self.text = text
    self._tree = _Parser(_tokenize(text)).parse()
    # Metadata paths named by the expression, and those found in some episode.
    self.metadata_paths = set(_metadata_paths(self._tree))
    # Whether the expression needs the episode's return (which reads its steps).
    self.uses_return = 'return' in _names(self._tree)
    self.found_paths: set = set()

  def matches(self, episode: Episode) -> bool:
    return self._eval(self._tree, episode)

  def _eval(self, tree: tuple, episode: Episode) -> bool:
    kind = tree[0]
    if kind == 'or':
      return self._eval(tree[1], episode) or self._eval(tree[2], episode)
    if kind == 'and':
      return self._eval(tree[1], episode) and self._eval(tree[2], episode)
    if kind == 'not':
      return not self._eval(tree[1], episode)
    _, op, left, right = tree
    return _compare(op, self._value(left, episode), self._value(right, episode))

  def _value(self, operand: tuple, episode: Episode) -> Any:
    if operand[0] == 'value':
      return operand[1]
    name = operand[1]
    if name[0] == 'return':
      return _MISSING if episode.episode_return is None else episode.episode_return
    if name[0] == 'length':
      return episode.length
    if name[0] == 'index':
      return episode.index
    value = _lookup(episode.metadata, name[1:])
    if value is not _MISSING:
      self.found_paths.add(name)
    return value


def _names(tree: tuple) -> list[str]:
  """The first part of every name in the expression."""
  return [path[0] for path in _paths(tree)]


def _metadata_paths(tree: tuple) -> list[tuple]:
  return [path for path in _paths(tree) if path[0] == 'metadata']


def _paths(tree: tuple) -> list[tuple]:
  """Every name of the expression, as a tuple ('metadata', 'a', 'b') or ('return',)."""
  if tree[0] in ('or', 'and'):
    return _paths(tree[1]) + _paths(tree[2])
  if tree[0] == 'not':
    return _paths(tree[1])
  return [operand[1] for operand in tree[2:] if operand[0] == 'name']


def _lookup(value: Any, keys: tuple) -> Any:
  """value[k1][k2]... of nested dicts (str key, else int key), or _MISSING."""
  for key in keys:
    if not isinstance(value, dict):
      return _MISSING
    if key in value:
      value = value[key]
    elif key.isdigit() and int(key) in value:
      value = value[int(key)]
    else:
      return _MISSING
  return _plain(value)


def _plain(value: Any) -> Any:
  """A number or str from a metadata value; _MISSING for anything else."""
  if hasattr(value, 'shape') and getattr(value, 'shape') == () and hasattr(value, 'item'):
    value = value.item()
  if isinstance(value, bytes):
    value = value.decode('utf-8', 'replace')
  if isinstance(value, (bool, int, float, str)):
    return value
  return _MISSING


def _compare(op: str, left: Any, right: Any) -> bool:
  if left is _MISSING or right is _MISSING:
    return False
  if isinstance(left, str) != isinstance(right, str):
    if op in ('==', '!='):
      return op == '!='
    raise WhereError(f'cannot compare {left!r} {op} {right!r}: a string and a number')
  if op == '==':
    return left == right
  if op == '!=':
    return left != right
  if op == '<':
    return left < right
  if op == '<=':
    return left <= right
  if op == '>':
    return left > right
  return left >= right
