"""The phone plugin."""
