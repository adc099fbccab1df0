"""JSON output: one object per command run, stable key order."""

from __future__ import annotations

import json
import sys
from typing import IO, Any, Optional


def dump(obj: Any, stream: Optional[IO[str]] = None) -> None:
    out = stream or sys.stdout
    json.dump(obj, out, indent=2, ensure_ascii=False, default=str)
    out.write("\n")
