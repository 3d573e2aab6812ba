"""Create the production secrets file: ``python -m monitoring.core.secretsfile PATH``.

It needs no app and no database, so it is the first thing an installation runs. Every secret the
app needs (:data:`monitoring.config.SECRET_NAMES`) gets 48 random bytes, URL-safe; the file is
written with mode 0600 and never overwritten. ``--add-missing`` adds the secrets a newer release
needs to an existing file and keeps every value it has (changing one would orphan receipts or
break the audit chain). Run it as the user that owns the file (the service user).
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import sys
from pathlib import Path

from monitoring.config import SECRET_NAMES


def write_secrets(path: Path, *, add_missing: bool = False) -> list[str]:
    """Write the secrets file; return the names of the secrets it added."""
    data: dict[str, str] = {}
    if path.exists():
        if not add_missing:
            raise FileExistsError(
                f"{path} exists already (add secrets a new release needs with --add-missing)"
            )
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("kind") == "development":
            raise ValueError(f"{path} holds development secrets; production needs a file of its own")
    added = [name.lower() for name in SECRET_NAMES if not data.get(name.lower())]
    data.update({name: secrets.token_urlsafe(48) for name in added})
    data["kind"] = "production"
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(data, fh, indent=2)
    os.replace(tmp, path)
    return added


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m monitoring.core.secretsfile", description=__doc__.split("\n")[0]
    )
    parser.add_argument("path", type=Path, help="e.g. /etc/monitoring/secrets.json")
    parser.add_argument("--add-missing", action="store_true", help="add the secrets a newer release needs")
    args = parser.parse_args(argv)
    try:
        added = write_secrets(args.path, add_missing=args.add_missing)
    except (OSError, ValueError) as exc:
        print(f"secretsfile: {exc}", file=sys.stderr)
        return 1
    names = ", ".join(added) or "none"
    print(f"{args.path}: secrets added: {names}; keep a copy apart from the database backups")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
