"""The visit plugin."""
