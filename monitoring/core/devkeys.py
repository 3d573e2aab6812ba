"""Generate development secrets into the instance folder when they are absent.

Run as ``python -m monitoring.core.devkeys [INSTANCE_PATH]``. The file is marked
``"kind": "development"`` and a production app refuses to start with it.
"""

from __future__ import annotations

import json
import os
import secrets
import sys
from pathlib import Path

from monitoring.config import DEFAULT_INSTANCE, SECRET_NAMES
from monitoring.core.crypto import Keyring, write_keyring_file


def ensure_dev_secrets(instance: Path) -> tuple[Path, bool]:
    """Write ``secrets.json`` with fresh random development keys unless it exists.

    A development file from an older version gains the secrets added since; existing values
    are kept, and a file not marked as development is never touched.
    """
    instance.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = instance / "secrets.json"
    if path.exists():
        data = json.loads(path.read_text(encoding="utf-8"))
        missing = [name.lower() for name in SECRET_NAMES if not data.get(name.lower())]
        if data.get("kind") != "development" or not missing:
            return path, False
        data.update({name: secrets.token_urlsafe(48) for name in missing})
        tmp = path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh, indent=2)
        os.replace(tmp, path)
        return path, True
    data = {"kind": "development"}
    data.update({name.lower(): secrets.token_urlsafe(48) for name in SECRET_NAMES})
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(data, fh, indent=2)
    return path, True


def ensure_dev_keyring(instance: Path) -> tuple[Path, bool]:
    """Write ``keyring.json`` with one fresh development key unless it exists."""
    path = instance / "keyring.json"
    if path.exists():
        return path, False
    write_keyring_file(path, Keyring.generate(), kind="development")
    return path, True


def main(argv: list[str]) -> int:
    instance = Path(argv[1]) if len(argv) > 1 else DEFAULT_INSTANCE
    path, created = ensure_dev_secrets(instance)
    print(f"{'created' if created else 'kept existing'} development secrets in {path}")
    path, created = ensure_dev_keyring(instance)
    print(f"{'created' if created else 'kept existing'} development keyring in {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
