"""``python -m oi_voice.cli``: the same as the ``oi`` command."""

from oi_voice.cli.main import main

raise SystemExit(main())
