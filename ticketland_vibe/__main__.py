"""``python -m ticketland_vibe``: the command line."""

from ticketland_vibe._cli import main

raise SystemExit(main())
