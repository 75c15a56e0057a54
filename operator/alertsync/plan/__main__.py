"""`python -m alertsync.plan`: the plan command on its own."""

from alertsync.plan import main

raise SystemExit(main())
