"""The expression language: total tokenizer, Pratt parser and syntax tree (text -> syntax tree)."""

from graphviz_ad.language.parser import MAX_NESTING, parse
from graphviz_ad.language.syntax import to_sexpr

__all__ = ["MAX_NESTING", "parse", "to_sexpr"]
