"""The legal plugin."""
