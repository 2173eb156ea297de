"""``python -m symconv``: the command line."""

from symconv.cli.main import main

raise SystemExit(main())
