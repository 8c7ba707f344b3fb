"""``python -m redqueen``: the same command as ``redqueen`` (see :mod:`redqueen.cli`)."""

from redqueen.cli import main

raise SystemExit(main())
