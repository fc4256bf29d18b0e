"""``python -m smartcar_logs.cli``: the console script."""

from . import main

main()
