"""What a ticket (or a day) looks like to a surface: read from storage, handed to bot/views."""
