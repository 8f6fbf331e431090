"""What every tab shares: turning library errors into messages a person can read."""
from __future__ import annotations

import functools
import logging
from typing import Any, Callable, TypeVar

import gradio as gr

from tokenworks.errors import TokenworksError

log = logging.getLogger("tokenworks.app")
F = TypeVar("F", bound=Callable[..., Any])


def friendly(fn: F) -> F:
    """Wrap a handler: library errors become a gr.Error with their message; anything else is
    logged with its traceback on the server and shown as a short message, never a stack trace."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except gr.Error:
            raise
        except TokenworksError as e:
            raise gr.Error(str(e), print_exception=False) from None
        except Exception as e:  # noqa: BLE001 - the UI must never show a traceback
            log.exception("handler %s failed", fn.__name__)
            raise gr.Error(
                f"Something went wrong in {fn.__name__} ({type(e).__name__}). "
                "The details are in the server log; please report them.",
                print_exception=False,
            ) from None

    return wrapper  # type: ignore[return-value]
