"""The outbox engine: claims rows in order, retries, and hands each to its deliverer."""
