"""``python -m oi_voice``: the desktop app (``oi-voice``)."""

from oi_voice.ui.main import main

raise SystemExit(main())
