"""The Today board: its table model and the page around it."""
