"""`python -m alertsync.export`: the export command on its own."""

from alertsync.export import main

raise SystemExit(main())
