"""PyInstaller entry point of the `snowml-desktop` executable."""

import multiprocessing
import sys

from snowml_desktop.app import main

if __name__ == "__main__":
    # The local engine trains and scores in spawned worker processes; a frozen executable must hand those
    # children to multiprocessing instead of starting the app again.
    multiprocessing.freeze_support()
    sys.exit(main())
