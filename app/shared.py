"""Small handler helpers several tabs share (no Gradio import, so handler modules stay light)."""
from __future__ import annotations

import html
from typing import Any

from tokenworks.errors import InvalidInput


def name_list(names: Any, what: str = "tokenizers") -> list[str]:
    """A dropdown's value as a list of strings: one name, a list of names, or None (no names)."""
    if names is None:
        return []
    if isinstance(names, str):
        return [names]
    if isinstance(names, (list, tuple)) and all(isinstance(n, str) or n is None for n in names):
        return [n for n in names if n]
    raise InvalidInput(f"{what} must be a name or a list of names, not {type(names).__name__} {names!r:.60}")


def chosen_names(tokenizers: Any, limit: int, examples: list[str]) -> list[str]:
    """The tokenizer names picked in a dropdown (one or many), deduplicated, 1 to ``limit`` of them."""
    names = list(dict.fromkeys(name_list(tokenizers)))
    if not names:
        raise InvalidInput(f"choose 1 to {limit} tokenizers, e.g. {', '.join(examples)}")
    if len(names) > limit:
        raise InvalidInput(f"choose at most {limit} tokenizers (got {len(names)}); remove some")
    return names


def warnings_markdown(lines: list[str]) -> str:
    """One warning paragraph per line, escaped for Markdown/HTML."""
    return "\n\n".join(f"⚠️ {html.escape(s, quote=False)}" for s in lines)


def error_markdown(e: Exception) -> str:
    """A library error as Markdown: its first line in bold, indented lines (commands) as code."""
    first, _, rest = str(e).partition("\n")
    out = f"⚠️ **Could not tokenize this.** {first}"
    for line in rest.splitlines():
        out += f"\n\n    {line.strip()}" if line.startswith("  ") else f"\n\n{line}"
    return out
