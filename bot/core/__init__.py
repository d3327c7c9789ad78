"""The domain core (docs/architecture.md)."""

# Imported with the package, so its flush hook is in place wherever the core changes state.
from bot.core import daily_figures  # noqa: F401
