"""``python -m demo``: serve the offline demo web (see demo.web)."""
from demo.web import main

raise SystemExit(main())
