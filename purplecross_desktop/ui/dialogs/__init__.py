"""Dialogs of the clinic screens: forms that save through the domain services."""
