"""Links to the Learn, Languages and Metrics tabs: restore the settings on page load, keep the link current.

    ?tab=learn&corpus=aaabdaaabac&merges=3&text=aaab&vocab=trained&order=chunk
    ?tab=languages&tokenizers=text/o200k_base,text/r50k_base&script=Cyrl&family=Indo-European&map=text/r50k_base
    ?tab=metrics&tokenizers=text/o200k_base&corpus=udhr&languages=eng,fra&split=whole&limit=200000

Each ``*_restore`` runs on page load: with a link to its tab it returns the link's settings for the
tab's controls, what it could not use as a note, the tab's link and the tab to select; Learn and
Languages then compute their view in their own handler (they run when the tab is selected),
Metrics computes it here (its Compute button has no other trigger). Any other page load changes
nothing but the tab's query (its link box starts current).
"""
from __future__ import annotations

from typing import Any

import gradio as gr

from . import languages_tab, learn_tab, metrics_tab, url_tabs
from .tab_links import UPLOAD_INFO, link_update, names_of, notes_markdown, opens, params_of, selected, whole_number
from .url_tabs import allowed

# ---- Learn ---------------------------------------------------------------------------------------

VOCABS = {"trained": learn_tab.TRAINED, "cl100k": learn_tab.CL100K}  # link value -> the tab's choice
ORDERS = tuple(learn_tab.ORDER_CHOICES.values())


def learn_spec() -> url_tabs.TabSpec:
    from tokenworks.teach.bpe_replay import MAX_ENCODE_CHARS, MAX_MERGES, MAX_TRAIN_CHARS

    return url_tabs.learn_spec(learn_tab.DEFAULT_CORPUS, MAX_TRAIN_CHARS, learn_tab.DEFAULT_MERGES, MAX_MERGES,
                               learn_tab.DEFAULT_ENCODE_TEXT, MAX_ENCODE_CHARS, tuple(VOCABS), ORDERS)


def _key(mapping: dict[str, Any], value: Any) -> str | None:
    return next((k for k, v in mapping.items() if v == value), None)


def learn_link(corpus: Any, n_merges: Any, text: Any, vocab: Any, order: Any) -> tuple[str, Any]:
    """UI handler: (query, link box) for the Learn tab's settings as they are."""
    spec = learn_spec()
    state = url_tabs.LearnLink(corpus=corpus if isinstance(corpus, str) else None, merges=whole_number(n_merges),
                               text=text if isinstance(text, str) else None, vocab=_key(VOCABS, vocab),
                               order=order if order in ORDERS else None)
    dropped = url_tabs.left_out(spec, state)
    info = f"The {' and the '.join(dropped)} {'are' if len(dropped) > 1 else 'is'} too long for a link and left out." \
        if dropped else ""
    return url_tabs.build_link(spec, state), link_update(info)


def learn_restore(corpus: Any, n_merges: Any, text: Any, vocab: Any, order: Any, request: gr.Request) -> tuple:
    """Page load: (corpus, merges, text, vocabulary, order, note, query, tabs)."""
    params = params_of(request)
    if not opens(params, "learn"):
        return (gr.skip(),) * 5 + ("", learn_link(corpus, n_merges, text, vocab, order)[0], gr.skip())
    spec = learn_spec()
    parsed = url_tabs.parse_link(params, spec)
    s = parsed.state
    return (s.corpus, s.merges, s.text, VOCABS[s.vocab], s.order, notes_markdown(parsed.notes),
            url_tabs.build_link(spec, s), selected("learn"))


# ---- Languages -----------------------------------------------------------------------------------

LANGUAGES_LINK = url_tabs.languages_spec((), (), 1)  # the parameters only: building a link needs no choices


def languages_spec() -> url_tabs.TabSpec:
    return url_tabs.languages_spec(languages_tab.text_tokenizers(), languages_tab.DEFAULT_TOKENIZERS,
                                   languages_tab.MAX_TOKENIZERS)


def languages_link(tokenizers: Any, script: Any, family: Any, map_tokenizer: Any) -> tuple[str, Any]:
    """UI handler: (query, link box) for the Languages tab's settings as they are."""
    state = url_tabs.LanguagesLink(tokenizers=names_of(tokenizers), script=languages_tab._script_code(script),
                                   family=languages_tab._family_name(family),
                                   map=map_tokenizer if isinstance(map_tokenizer, str) and map_tokenizer else None)
    return url_tabs.build_link(LANGUAGES_LINK, state), link_update()


def _check_filters(s: url_tabs.LanguagesLink, notes: list[str]) -> tuple[str, str, list[str], list[str]]:
    """(script choice, family choice, script choices, family choices) for the link's script and
    family, checked against the measured table; one that no language here has is noted and dropped."""
    from tokenworks.errors import TokenworksError

    all_s, all_f = languages_tab.ALL_SCRIPTS, languages_tab.ALL_FAMILIES
    if s.script is None and s.family is None:
        return all_s, all_f, [all_s], [all_f]
    try:
        table, _ = languages_tab.compute(list(s.tokenizers))
    except TokenworksError:
        table = None
    if table is None:  # the tab's own handler says why
        return all_s, all_f, [all_s], [all_f]
    scripts = languages_tab.script_choices(table)
    script = next((c for c in scripts[1:] if languages_tab._script_code(c).lower() == (s.script or "").lower()), all_s)
    if s.script is not None and script == all_s:
        notes.append(f"Ignored script {s.script!r}: no language here is written in it; choose from: "
                     f"{allowed(sorted(table.scripts()))}.")
    code = languages_tab._script_code(script)
    families = languages_tab.family_choices(table.filter(script=code) if code else table)
    family = next((c for c in families[1:] if languages_tab._family_name(c).lower() == (s.family or "").lower()),
                  all_f)
    if s.family is not None and family == all_f:
        names = [languages_tab._family_name(c) for c in families[1:]]
        notes.append(f"Ignored family {s.family!r}: no language here{f' written in {code}' if code else ''} is of it; "
                     f"choose from: {allowed(names)}.")
    return script, family, scripts, families


def languages_restore(tokenizers: Any, script: Any, family: Any, map_tokenizer: Any, request: gr.Request) -> tuple:
    """Page load: (tokenizers, script, family, map tokenizer, note, query, tabs)."""
    params = params_of(request)
    if not opens(params, "languages"):
        return (gr.skip(),) * 4 + ("", languages_link(tokenizers, script, family, map_tokenizer)[0], gr.skip())
    spec = languages_spec()
    parsed = url_tabs.parse_link(params, spec)
    s, notes = parsed.state, parsed.notes
    if s.map is not None and s.map not in s.tokenizers:
        notes.append(f"Ignored map={s.map}: the map shows one of the chosen tokenizers ({', '.join(s.tokenizers)}).")
        s.map = None
    script_choice, family_choice, scripts, families = _check_filters(s, notes)
    s.script, s.family = languages_tab._script_code(script_choice), languages_tab._family_name(family_choice)
    map_tok = s.map or s.tokenizers[0]
    return (gr.update(value=list(s.tokenizers)), gr.update(choices=scripts, value=script_choice),
            gr.update(choices=families, value=family_choice), gr.update(choices=list(s.tokenizers), value=map_tok),
            notes_markdown(notes), url_tabs.build_link(spec, s), selected("languages"))


# ---- Metrics -------------------------------------------------------------------------------------

CORPORA = {"sample": metrics_tab.SAMPLE, **{v: k for k, v in metrics_tab.CORPORA.items()}, "udhr": metrics_tab.UDHR}
SPLITS = {v: k for k, v in metrics_tab.UPLOAD_SPLITS.items()}  # link value -> the tab's choice
METRICS_LINK = url_tabs.metrics_spec((), (), 1, (), (), "", "", "", 1)


def metrics_spec() -> url_tabs.TabSpec:
    return url_tabs.metrics_spec(metrics_tab.text_tokenizers(), metrics_tab.DEFAULT_TOKENIZERS,
                                 metrics_tab.MAX_TOKENIZERS, tuple(CORPORA), tuple(SPLITS), "sample",
                                 metrics_tab.DEFAULT_LANGUAGES, next(iter(SPLITS)), metrics_tab.DEFAULT_LIMIT)


def metrics_link(tokenizers: Any, source: Any, languages: Any, split: Any, limit: Any) -> tuple[str, Any]:
    """UI handler: (query, link box) for the Metrics tab's settings as they are."""
    state = url_tabs.MetricsLink(tokenizers=names_of(tokenizers), corpus=_key(CORPORA, source),
                                 languages=languages if isinstance(languages, str) else None,
                                 split=_key(SPLITS, split), limit=whole_number(limit))
    info = UPLOAD_INFO.format(what="file", instead="corpus") if source == metrics_tab.UPLOAD else ""
    return url_tabs.build_link(METRICS_LINK, state), link_update(info)


def metrics_restore(tokenizers: Any, source: Any, languages: Any, split: Any, limit: Any,
                    request: gr.Request) -> tuple:
    """Page load: (tokenizers, corpus, languages, split, limit, status, table, CSV, note, query, tabs);
    a link to the tab computes its metrics (metrics_tab.show)."""
    params = params_of(request)
    if not opens(params, "metrics"):
        query = metrics_link(tokenizers, source, languages, split, limit)[0]
        return (gr.skip(),) * 8 + ("", query, gr.skip())
    spec = metrics_spec()
    parsed = url_tabs.parse_link(params, spec)
    s = parsed.state
    names = list(s.tokenizers)
    status, table, csv = metrics_tab.show(names, CORPORA[s.corpus], s.languages, None, SPLITS[s.split], s.limit)
    return (gr.update(choices=spec.params[0].choices, value=names), CORPORA[s.corpus], s.languages, SPLITS[s.split],
            s.limit, status, table, csv, notes_markdown(parsed.notes), url_tabs.build_link(spec, s), selected("metrics"))
