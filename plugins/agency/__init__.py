"""The agency plugin."""
