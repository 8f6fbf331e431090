"""Build and launch the tokenworks app.

    python -m app.main [--host 127.0.0.1] [--port 7860]     (or: tokenworks app, make app)

The server binds to 127.0.0.1 unless asked otherwise (and then warns); it never makes a public
share link.
"""
from __future__ import annotations

import argparse
import ipaddress
import logging
import os
import sys

import gradio as gr

from tokenworks.viz.text import CSS as TOKENS_CSS

from . import attention_tab, audio_tab, image_tab, languages_tab, learn_tab, library_tab, lm_tab, metrics_tab
from . import scheduling, text_tab, tournament_tab, train_tab, transfer_tab, undertrained_tab
from .widgets import DELETE_CACHE, select_plain_tab, upload_dir, wire_tab_selects

TITLE = "tokenworks"
CSS = TOKENS_CSS + """
.tw-name { margin: 10px 0 2px 0; font-family: system-ui, sans-serif; }
.tw-name small { color: #666; font-weight: normal; }
/* wide result tables: headers break between words, never letter by letter */
#tw-languages-table th, #tw-metrics-table th { min-width: 9ch; }
#tw-languages-table th *, #tw-metrics-table th * { word-break: normal !important; overflow-wrap: normal !important; }
"""


def build_app() -> gr.Blocks:
    with gr.Blocks(title=TITLE, delete_cache=DELETE_CACHE) as demo:
        gr.Markdown(
            "# tokenworks\nTokenize text, images and audio, look inside the tokens, compare tokenizers, train your own. "
            "Everything runs offline on this machine."
        )
        with gr.Tabs() as tabs:  # ids are the values of a link's tab= (app/links.py)
            with gr.Tab("Text", id="text", elem_id="tw-tab-text") as text:
                text_tab.build()
            with gr.Tab("Learn", id="learn", elem_id="tw-tab-learn") as learn:
                learn_tab.build(learn)
            with gr.Tab("Languages", id="languages", elem_id="tw-tab-languages") as languages:
                languages_tab.build(languages)
            with gr.Tab("Metrics", id="metrics", elem_id="tw-tab-metrics") as metrics:
                metrics_tab.build(metrics)
            with gr.Tab("Image", id="image", elem_id="tw-tab-image") as image:
                image_tab.build()
            with gr.Tab("Audio", id="audio", elem_id="tw-tab-audio") as audio:
                audio_tab.build(audio)
            with gr.Tab("Train", id="train", elem_id="tw-tab-train") as train:
                train_tab.build(train)
            with gr.Tab("Library", id="library", elem_id="tw-tab-library") as library:
                library_tab.build()
            with gr.Tab("Attention", id="attention", elem_id="tw-tab-attention") as attention:
                attention_tab.build(attention)
            with gr.Tab("LM", id="lm", elem_id="tw-tab-lm") as lm:
                lm_tab.build(lm)
            with gr.Tab("Under-trained", id="undertrained", elem_id="tw-tab-undertrained") as undertrained:
                undertrained_tab.build(undertrained)
            with gr.Tab("Transfer", id="transfer", elem_id="tw-tab-transfer") as transfer:
                transfer_tab.build(transfer)
            with gr.Tab("Tournament", id="tournament", elem_id="tw-tab-tournament") as tournament:
                tournament_tab.build(tournament)
        # links: the address bar follows the open tab; a link to a tab without settings opens it
        wire_tab_selects({"text": text, "learn": learn, "languages": languages, "metrics": metrics,
                                    "image": image, "audio": audio, "train": train, "library": library,
                                    "attention": attention, "lm": lm, "undertrained": undertrained,
                          "transfer": transfer, "tournament": tournament})
        demo.load(select_plain_tab, inputs=None, outputs=tabs, api_name=False, show_progress="hidden")
    return demo


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def launch(host: str = "127.0.0.1", port: int = 7860, *, block: bool = True) -> gr.Blocks:
    if not is_loopback(host):
        print(
            f"WARNING: serving on {host}:{port}, reachable from other machines on your network. "
            "tokenworks has no login; use 127.0.0.1 unless you mean it.",
            file=sys.stderr,
        )
    folder = upload_dir()
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.environ["GRADIO_TEMP_DIR"] = str(folder)  # read by Gradio whenever it stores an upload
    scheduling.configure_process()  # torch threads, switch interval, PESQ helpers (app/scheduling.py)
    demo = build_app()
    scheduling.assign_queues(demo)  # a quick queue and a compute queue (app/scheduling.py)
    demo.queue(default_concurrency_limit=2, max_size=256)
    demo.launch(
        server_name=host,
        server_port=port,
        share=False,
        css=CSS,
        show_error=True,
        prevent_thread_lock=not block,
        footer_links=["api"],
    )
    return demo


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="tokenworks app", description="Serve the tokenworks Gradio app.")
    ap.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"), help="address to bind (default 127.0.0.1)")
    ap.add_argument("--port", type=int, default=int(os.environ.get("PORT", "7860")), help="port (default 7860)")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    launch(args.host, args.port)
    return 0


if __name__ == "__main__":
    sys.exit(main())
