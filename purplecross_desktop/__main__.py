"""``python -m purplecross_desktop`` is the ``purplecross`` command."""

from purplecross_desktop.cli import main

main()
