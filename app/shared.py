"""Small handler helpers several tabs share (no Gradio import, so handler modules stay light)."""
from __future__ import annotations

import html
from typing import Any

from tokenworks.errors import InvalidInput


def chosen_names(tokenizers: Any, limit: int, examples: list[str]) -> list[str]:
    """The tokenizer names picked in a dropdown (one or many), deduplicated, 1 to ``limit`` of them."""
    names = [tokenizers] if isinstance(tokenizers, str) else list(tokenizers or [])
    names = list(dict.fromkeys(n for n in names if n))
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
