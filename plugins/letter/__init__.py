"""The letter plugin."""
