"""What every front end shares: ``oi``, ``oi-voice --headless``, the desktop app and the server.

- :mod:`~oi_voice.frontend.config`: the command-line flags derived from the settings
  schema, the profile choice and :func:`~oi_voice.frontend.config.configure`
  (profile < environment < flags, with where each value came from);
- :mod:`~oi_voice.frontend.approval`: the keyboard approval prompt and the auto-run warning;
- :mod:`~oi_voice.frontend.runtime`: exit codes, logging set-up and Ctrl-C handling;
- :mod:`~oi_voice.frontend.headless`: ``oi-voice --headless`` and ``--list-devices``.

Front ends import this package, never the reverse. Importing it is cheap: ``oi --help``
loads :mod:`~oi_voice.frontend.config` and nothing of the engine.
"""
