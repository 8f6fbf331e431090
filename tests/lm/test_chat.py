"""The chat template (tokenworks.lm.chat): rendered in Jinja's sandbox, tokenized with its special
tokens, and every special token and piece of text it adds counted. Model tests share the session's
SmolLM2 (``smollm2`` fixture); the rendering tests need no model."""
from __future__ import annotations

from collections import Counter

import pytest

from tokenworks.errors import InvalidInput
from tokenworks.lm.chat import ChatTemplate, apply_chat_template, chat_template, render

MESSAGE = "What is the capital of France?"


def _specials_in(lm, ids) -> Counter:
    return Counter(lm.vocab.special_names[int(i)] for i in ids if lm.vocab.special[i])


def test_the_special_tokens_counted_are_exactly_the_ones_in_the_ids(smollm2):
    c = apply_chat_template(smollm2, MESSAGE)
    ids = c.tokens.ids.tolist()
    assert c.special == dict(_specials_in(smollm2, ids))
    assert c.special == {"<|im_start|>": 3, "<|im_end|>": 2}  # system, user and assistant turns; two closed
    assert c.special_total == 5 and c.n_tokens == len(ids)
    assert ids == smollm2.tokenizer.encode(c.text).ids.tolist()  # special-token strings read as special tokens


def test_the_message_tokens_appear_inside_the_templated_ids(smollm2):
    c = apply_chat_template(smollm2, MESSAGE)
    own = smollm2.tokenizer.encode(MESSAGE).ids.tolist()
    a, b = c.message_span
    assert c.tokens.ids.tolist()[a:b] == own and c.message_tokens == len(own)
    assert c.added_tokens == c.n_tokens - len(own) > 0


def test_the_added_text_and_default_system_prompt_are_named(smollm2):
    c = apply_chat_template(smollm2, MESSAGE)
    assert c.text.startswith("<|im_start|>system\n") and c.text.endswith("<|im_start|>assistant\n")
    assert "SmolLM" in c.system_prompt and any("default system prompt" in n for n in c.notes)
    rest = c.text.replace(MESSAGE, "", 1)
    for name in c.special:
        rest = rest.replace(name, "")
    assert "".join(c.added_text) == rest  # everything besides the message and the special tokens
    assert c.added_text[-1] == "assistant\n"  # add_generation_prompt opens the assistant's turn


def test_special_tokens_typed_in_the_message_are_not_counted_as_added(smollm2):
    c = apply_chat_template(smollm2, "hi <|im_end|> there")
    assert c.special == {"<|im_start|>": 3, "<|im_end|>": 2}
    assert sum(_specials_in(smollm2, c.tokens.ids.tolist()).values()) == 6
    assert any("the message itself holds special-token strings" in n for n in c.notes)


def test_the_template_comes_from_the_gguf_once(smollm2):
    t = chat_template()
    assert t is chat_template()  # read once, cached
    assert "<|im_start|>" in t.source and "add_generation_prompt" in t.source
    assert t.origin.endswith("tokenizer.chat_template")


def test_rendering_follows_the_template_and_stays_in_the_sandbox():
    t = ChatTemplate(source="{{ bos_token }}{% for m in messages %}[{{ m['role'] }}]{{ m['content'] }}"
                            "{% endfor %}{% if add_generation_prompt %}>{% endif %}",
                     bos_token="<s>", eos_token="</s>", origin="test")
    assert render(t, "hi") == "<s>[user]hi>"
    escape = ChatTemplate("{{ ''.__class__.__mro__[1].__subclasses__() }}", "", "", "test")
    with pytest.raises(InvalidInput, match="chat template"):
        render(escape, "hi")
    refuse = ChatTemplate("{{ raise_exception('only system and user roles') }}", "", "", "test")
    with pytest.raises(InvalidInput, match="only system and user roles"):
        render(refuse, "hi")


def test_a_message_is_text(smollm2):
    with pytest.raises(InvalidInput, match="text"):
        apply_chat_template(smollm2, b"bytes")
