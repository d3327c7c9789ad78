"""The migrations' own tests: each gets an empty database, where every other tier's starts at
the newest schema."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.conftest import BACKENDS, fresh_database


@pytest.fixture(params=BACKENDS)
def database_url(request, tmp_path) -> Iterator[str]:
    """A fresh, empty database on each backend."""
    yield from fresh_database(request.param, tmp_path)
