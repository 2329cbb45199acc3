"""`tutela hash PATH...`: content digests as Tutela names versions."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from tutela.cli.options import JsonOpt
from tutela.cli.render import emit_json, out_console


def hash_(
    paths: Annotated[list[Path], typer.Argument(help="Files or directories.")],
    json_out: JsonOpt = False,
) -> None:
    """Print the sha256 content digest of files and directories (canonical manifest)."""
    from tutela.digest import dir_digest, file_digest

    results = []
    for path in paths:
        if path.is_dir() and not path.is_symlink():
            d = dir_digest(path)
            results.append(
                {
                    "path": str(path),
                    "type": "directory",
                    "digest": d.digest,
                    "entries": len(d.manifest.entries),
                }
            )
        else:
            f = file_digest(path)
            results.append({"path": str(path), "type": "file", "digest": f.digest, "size": f.size})
    if json_out:
        emit_json(results)
        return
    console = out_console()
    for r in results:
        console.print(f"{r['digest']}  {r['path']}", highlight=False, markup=False)
