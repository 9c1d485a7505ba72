"""The desktop app (PySide6). ``oi_voice.ui.main`` is its entry point and imports no Qt."""
