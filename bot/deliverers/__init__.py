"""One deliverer per kind of outbox row: how each recorded effect reaches its service."""
