"""``oi-voice --headless`` and ``oi-voice --list-devices``: voice without a window.

    oi-voice --headless --input question.wav --output answer.wav -y --api_base URL -m MODEL
    oi-voice --headless --input mic --output speaker --profile voice

One spoken turn end to end: speech -> transcript -> model -> approval -> run -> spoken
answer, printing the transcript, the code, its output, the reply and a latency line.
The model, profile and voice flags are derived from the settings schema, like ``oi``'s
(:mod:`oi_voice.frontend.config`). Errors are one line on stderr, never a traceback.
Exit codes: 0 done; 1 the turn failed (nothing heard, a model error, no microphone, the
microphone or speaker went away: one line says which, at once);
2 a usage, file or settings error; 130 Ctrl-C.
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from oi_voice.errors import AudioDeviceError, AudioDeviceLost, AudioFileError, ConfigError, OIVoiceError
from oi_voice.frontend.config import Parser, add_profile_flags, add_setting_flags
from oi_voice.frontend.runtime import EXIT_FAILED, EXIT_OK, EXIT_USAGE, exit_code_of
from oi_voice.settings import SCHEMA, Schema

if TYPE_CHECKING:
    from oi_voice.core.approval import Decision
    from oi_voice.core.interpreter import Interpreter
    from oi_voice.voice.events import VoiceEvent
    from oi_voice.voice.pipeline import VoiceConfig

EPILOG = """\
examples:
  oi-voice --list-devices
  oi-voice --headless --input question.wav --output reply.wav -y -ab http://localhost:11434/v1 -m llama3.1
  oi-voice --headless --input mic --output speaker --profile voice

Without --headless, oi-voice starts the desktop app.
"""


def build_parser(schema: Schema = SCHEMA) -> argparse.ArgumentParser:
    """The parser of ``oi-voice``: its own options, the voice settings' flags and ``oi``'s model flags."""
    parser = Parser(prog="oi-voice", description="oi_voice by voice: speak, approve, hear the answer.",
                    epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter, allow_abbrev=False)
    voice = parser.add_argument_group("voice")
    voice.add_argument("--headless", action="store_true", help="run one spoken turn without a window, then exit")
    voice.add_argument("--list-devices", action="store_true", help="list audio devices and exit")
    voice.add_argument("--input", default="mic", metavar="FILE|mic",
                       help="speech to answer: an audio file (any rate and channels) or 'mic' (default)")
    voice.add_argument("--output", default="speaker", metavar="FILE|speaker",
                       help="where the spoken reply goes: a WAV file or 'speaker' (default)")
    voice.add_argument("--answer", action="append", default=[], metavar="FILE",
                       help="with --input FILE: a spoken answer to a confirmation question (repeatable)")
    voice.add_argument("--listen-timeout", type=float, default=30.0, metavar="SECONDS",
                       help="with --input mic: how long to wait for speech (default 30)")
    add_setting_flags(voice, "oi-voice", schema, targets=("voice",))
    app = parser.add_argument_group("desktop app (without --headless)")
    app.add_argument("--log-file", metavar="PATH", help="write the app's log (INFO and up) to PATH")
    app.add_argument("--no-tray", action="store_true", help="no tray icon: the window carries everything")
    app.add_argument("--no-global-hotkey", action="store_true",
                     help="push-to-talk only while the window has focus")
    model = parser.add_argument_group("model and profile (as in `oi`)")
    add_setting_flags(model, "oi-voice", schema, targets=("interpreter",))
    add_profile_flags(model)
    return parser


def main(argv: list[str] | None = None) -> int:
    """``oi-voice`` with ``--headless`` or ``--list-devices``; returns the exit code."""
    args = build_parser().parse_args(argv)
    if args.list_devices:
        return exit_code_of(list_devices)
    if not args.headless:
        _fail("nothing to do: give --headless or --list-devices (without them oi-voice starts the app)")
        return EXIT_USAGE
    return exit_code_of(lambda: run_headless(args))


def _fail(message: str) -> None:
    print(f"oi-voice: {message}", file=sys.stderr, flush=True)


def list_devices() -> int:
    """Print the audio devices (``--list-devices``)."""
    from oi_voice.voice.capture import format_devices
    from oi_voice.voice.capture import list_devices as devices

    try:
        found = devices()
    except AudioDeviceError as exc:
        _fail(str(exc))
        return EXIT_FAILED
    print(format_devices(found))
    return EXIT_OK


def keyboard_fallback(content: dict[str, Any]) -> Decision:
    """Decide a run the voice left open: ask on the terminal, or decline without one."""
    from oi_voice.core.approval import Decision
    from oi_voice.frontend.approval import ask_approval

    if not sys.stdin.isatty():
        return Decision.decline("it was not approved (no spoken yes, and no keyboard to ask)", source="api")
    print(content.get("summary") or "Run this code?", flush=True)
    return ask_approval(_input, print, content)


def _input(prompt: str) -> str | None:
    try:
        return input(prompt)
    except EOFError:
        return None


class _Printer:
    """Prints a turn as it happens: transcript, code, output, reply, latency."""

    def __init__(self) -> None:
        self._in_output = False
        self._ended_line = True
        self._lock = threading.Lock()

    def __call__(self, event: VoiceEvent) -> None:
        from oi_voice.core.events import Progress
        from oi_voice.voice import events as ev

        with self._lock:
            if isinstance(event, ev.TranscriptReady):
                self._line(f"you said: {event.text or '(nothing)'}")
            elif isinstance(event, ev.CodeReady):
                self._line(f"code ({event.language}):")
                for line in event.code.rstrip("\n").splitlines():
                    self._line(f"    {line}")
            elif isinstance(event, ev.ConfirmationAsked):
                self._line(f"confirm ({event.risk} risk): {event.summary}")
            elif isinstance(event, ev.ConfirmationHeard):
                self._line(f"heard: {event.text or '(nothing)'} -> {event.meaning or 'not understood'}")
            elif isinstance(event, ev.ConfirmationAnswered):
                self._line(f"decision: {event.action or 'left open'}"
                           + (f" ({event.reason})" if event.reason else ""))
            elif isinstance(event, ev.OutputDelta):
                if not self._in_output:
                    self._line("output:")
                    self._in_output = True
                sys.stdout.write(event.text)
                sys.stdout.flush()
                self._ended_line = event.text.endswith("\n")
            elif isinstance(event, ev.TurnError):
                self._line(f"error ({event.kind}): {event.message}")
            elif isinstance(event, ev.TurnFinished):
                if event.reply.strip():
                    self._line("assistant: " + event.reply.strip().replace("\n", "\n           "))
                self._line(event.latency.line())
            elif isinstance(event, ev.VoiceError):
                _fail(event.message)
            elif isinstance(event, ev.DeviceLost):
                from oi_voice.frontend.messages import device_message

                _fail(device_message(event.kind, event.reason, event.detail))
            elif isinstance(event, ev.VoiceNotice):
                self._line(f"note: {event.message}")
            elif isinstance(event, ev.TurnEvent) and isinstance(event.event, Progress):
                self._line(f"note: {event.event.text}")

    def _line(self, text: str) -> None:
        if self._in_output:
            if not self._ended_line:
                sys.stdout.write("\n")
            self._in_output = False
        print(text, flush=True)


def run_headless(args: argparse.Namespace) -> int:
    """One spoken turn from ``args.input`` to ``args.output``."""
    from oi_voice.voice.audio import load_audio_file

    from_mic = args.input == "mic"
    to_speaker = args.output == "speaker"
    try:
        audio = None if from_mic else load_audio_file(args.input)
        answers = [load_audio_file(path) for path in args.answer]
    except AudioFileError as exc:
        _fail(str(exc))
        return EXIT_USAGE
    if not to_speaker:
        out = Path(args.output)
        if not out.parent.is_dir():
            _fail(f"{out}: cannot write the reply there (no folder {out.parent})")
            return EXIT_USAGE
    if from_mic or to_speaker:
        # Before the model and the kernel start: a missing device is the whole answer.
        from oi_voice.voice.capture import resolve_device

        try:
            if from_mic:
                resolve_device(args.input_device, "input")
            if to_speaker:
                resolve_device(args.output_device, "output")
        except AudioDeviceError as exc:
            _fail(str(exc))
            return EXIT_FAILED
    from oi_voice.frontend.approval import auto_run_warning
    from oi_voice.frontend.config import configure
    from oi_voice.frontend.runtime import setup_logging
    from oi_voice.voice.pipeline import VoiceConfig

    try:
        config = configure(args, "oi-voice")
    except ConfigError as exc:
        _fail(f"settings error: {exc}")
        return EXIT_USAGE
    owner = config.interpreter
    setup_logging(bool(owner.verbose))
    if owner.verbose:
        for line in config.describe():
            print(f"Setting {line}", file=sys.stderr)
    if owner.auto_run:
        print(auto_run_warning(owner.safe_mode), file=sys.stderr)
    try:
        return _turn(args, owner, VoiceConfig.from_settings(config.voice), audio, answers, from_mic, to_speaker)
    except OIVoiceError as exc:
        _fail(str(exc))
        return EXIT_FAILED
    finally:
        owner.close()


def _turn(args: argparse.Namespace, owner: Interpreter, config: VoiceConfig, audio: Any,
          answers: list[Any], from_mic: bool, to_speaker: bool) -> int:
    from oi_voice.voice.capture import FileAnswers, Utterance
    from oi_voice.voice.pipeline import VoiceSession
    from oi_voice.voice.playback import Speaker, WavFileSpeaker

    speaker: Speaker | None = None if to_speaker else WavFileSpeaker(args.output)
    session = VoiceSession(owner, config, microphone=from_mic, speaker=speaker,
                           answers=FileAnswers(answers) if answers else None, fallback=keyboard_fallback)
    session.subscribe(_Printer())
    try:
        session.start()
        if from_mic and session.capture is None:
            return EXIT_FAILED  # the VoiceError event said why
        if to_speaker and session.speech is None:
            return EXIT_FAILED
        session.wait_ready()
        if from_mic:
            print("Listening... speak now.", file=sys.stderr, flush=True)
            try:
                result = session.listen_turn(args.listen_timeout)
            except AudioDeviceLost:
                return EXIT_FAILED  # the DeviceLost event's line said so
            if result is None:
                _fail(f"no speech heard within {args.listen_timeout:.0f} s")
                return EXIT_FAILED
        else:
            result = session.run_utterance(Utterance(audio, time.monotonic(), "file"))
        session.wait_idle(120)
    finally:
        session.close()
    if not result.transcript:
        _fail("nothing was heard in the audio")
        return EXIT_FAILED
    return EXIT_FAILED if result.error else EXIT_OK
