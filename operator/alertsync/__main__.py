"""`python -m alertsync run`."""

from alertsync.cli import main

main()
