"""Sizes as people read them, the same in Slack's lines and in the text of a mail."""

from __future__ import annotations


def human_size(size: int) -> str:
    """1,023 bytes, 1.5 KB, 20 MB: binary units, as file managers show them."""
    if size < 1024:
        return f"{size:,} byte{'' if size == 1 else 's'}"
    value = float(size)
    for unit in ("KB", "MB", "GB", "TB"):
        value /= 1024
        if value < 1024 or unit == "TB":
            break
    return f"{value:.1f}".removesuffix(".0") + f" {unit}"
