"""Hands-free on loudspeakers: echo removed, self-started turns, barge-in, canceller CPU.

    .venv/bin/python tests/bench/bench_echo.py [--reps N] [--json]

On the laptop rig of the tests (tests/echo_room.py: the private PulseAudio's speaker
coupled into its microphone, attenuated to -10 dB, ~40 ms late, with sox's reverb), a
voice session in hands-free mode (``listen_turn`` in a loop) speaks typed replies
(Piper, the scripted model with zero delay):

- echo return loss enhancement: microphone power / cleaned power over the frames
  where the reply (or its room tail) was heard, 20 replies, as the canceller counts it;
- self-started turns per 20 replies: transcripts the loop made while nobody spoke,
  with cancellation on and off;
- barge-in: a Piper utterance ("Stop. Open the other folder instead.") said into the
  microphone over a long reply -> the last loud 20 ms block of the reply on the
  speaker's monitor, from the moment the person's first word reaches the microphone
  (found in a recording of ``mic`` by cross-correlation; both recordings are parec's
  with the same 20 ms latency);
- CPU per second of microphone audio in the canceller (thread CPU time of
  ``process``, alignment included), and the same for WebRTC alone, offline.

Targets: >= 25 dB, 0 self-started turns, barge-in silence <= 300 ms. Figures are
printed, never asserted; ``rows(ctx)`` gives them to tests/bench/run.py.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent.parent
TESTS = ROOT / "tests"
for folder in (str(TESTS), str(ROOT)):
    if folder not in sys.path:
        sys.path.insert(0, folder)

REPLY = "All right, that is done."
LONG = "The folder holds many files, and I will describe each of them to you in turn. "
BARGE_IN = "Stop. Open the other folder instead."
ERLE_TARGET = 25.0
BARGE_IN_TARGET = 0.3
REPLIES = 20


def _uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def _session(url: str, echo: str) -> Any:
    from oi_voice import Interpreter
    from oi_voice.voice.pipeline import VoiceConfig, VoiceSession

    interp = Interpreter()
    interp.llm.model = "scripted-model"
    interp.llm.api_base = url
    interp.llm.api_key = "sk-bench"
    interp.llm.supports_functions = True
    session = VoiceSession(interp, VoiceConfig(echo_cancellation=echo, vad_silence=0.6))
    session.start()
    session.wait_ready(120)
    return session


def _replies(echo: str) -> dict[str, Any]:
    """Twenty typed replies spoken on the rig while hands-free listens."""
    from echo_room import HandsFree
    from scripted_llm import ScriptedLLM, text

    with ScriptedLLM() as llm:
        llm.add(*[text(REPLY) for _ in range(REPLIES * 3)])  # self-started turns take replies too
        session = _session(llm.url, echo)
        loop = HandsFree(session)
        try:
            loop.typed_replies([f"do task {i}" for i in range(REPLIES)])
        finally:
            loop.close()
            session.close()
            session.interpreter.close()
    canceller = session.turn_taking.echo
    # Its own voice either cut the reply (a barge-in) or became a request (a transcript).
    out: dict[str, Any] = {"requests": len([t for t in loop.heard if t]), "barge_ins": len(loop.barge_ins)}
    out["self_started"] = out["requests"] + out["barge_ins"]
    if canceller is not None:
        out.update(erle=canceller.erle_db(), bursts=canceller.bursts,
                   cpu_ms_per_s=1000 * canceller.cpu / max(canceller.seconds, 1e-9))
    return out


def _onset(recording: Any, clip: Any) -> float:
    """When ``clip`` starts in ``recording`` (monotonic; the same parec latency as spk.monitor's)."""
    import numpy as np

    blocks = list(recording.blocks)
    audio = np.concatenate([b for _t, b in blocks])
    n = 1 << int(np.ceil(np.log2(audio.size + clip.size)))
    corr = np.fft.irfft(np.fft.rfft(audio, n) * np.conj(np.fft.rfft(clip, n)), n)[: audio.size]
    index = int(np.argmax(corr))
    ends = np.cumsum([b.size for _t, b in blocks])
    k = int(np.searchsorted(ends, index, side="right"))
    return float(blocks[k][0] - (ends[k] - index) / 16000)


def _barge_in(running: Any, utterances: Any, reps: int) -> list[float]:
    """Person speaks over a long reply -> reply silent on the speaker's monitor."""
    import numpy as np
    import voice_env
    from echo_room import HandsFree
    from scripted_llm import ScriptedLLM, endless, text

    from oi_voice.voice.audio import load_audio_file
    from oi_voice.voice.events import SpeakingStarted, VoiceEvent

    wav = utterances.piper(BARGE_IN)
    clip = load_audio_file(wav)
    lead = next((i for i in range(0, clip.size, 160) if float(np.sqrt(np.mean(clip[i:i + 160] ** 2))) > 0.02), 0)
    delays: list[float] = []
    with ScriptedLLM() as llm:
        session = _session(llm.url, "on")
        sentences: list[float] = []

        def on_event(event: VoiceEvent) -> None:
            if isinstance(event, SpeakingStarted):
                sentences.append(event.at)

        session.subscribe(on_event)
        loop = HandsFree(session)
        try:
            for _ in range(reps):
                llm.add(endless(LONG), text("Opening the other folder."))
                before = len(loop.finished)
                seen = len(sentences)
                recording = running.record_speaker()
                turn = session.submit_text("tell me about the folder")
                if not loop.wait(lambda h, n=seen: len(sentences) >= n + 2, timeout=60):
                    recording.stop()
                    continue
                heard = voice_env.Recording(running.env, "mic")  # when the first word reaches the microphone
                assert heard.started.wait(15)
                running.say_into_mic(wav)
                loop.wait(lambda h, b=before: len(h.finished) >= b + 2, timeout=120)
                turn.join(60)
                session.wait_idle(60)
                recording.stop()
                heard.stop()
                said = _onset(heard, clip) + lead / 16000
                after = [t for t in recording.loud_times() if t > said]
                # The reply's last loud block before the answer ("Opening the other folder.") began.
                answer = min((t for t in sentences[seen:] if t > said), default=None)
                reply_after = [t for t in after if answer is None or t < answer]
                delays.append((max(reply_after) - said) if reply_after else 0.0)
        finally:
            loop.close()
            session.close()
            session.interpreter.close()
    return delays


def _webrtc_alone() -> float:
    """CPU ms per second of audio of WebRTC AEC3 + NS alone (10 ms frames, 20 s, offline)."""
    import numpy as np
    from pywebrtc_audio import AudioProcessor

    rng = np.random.default_rng(0)
    far = (rng.standard_normal(16000 * 20) * 0.1).astype(np.float32)
    near = (np.roll(far, 640) * 0.3 + rng.standard_normal(far.size) * 0.001).astype(np.float32)
    apm = AudioProcessor(sample_rate=16000, echo_cancellation=True, noise_suppression=True)
    start = time.thread_time()
    for i in range(0, far.size, 160):
        apm.process(near[i:i + 160], far[i:i + 160])
    return 1000 * (time.thread_time() - start) / 20


def measure(reps: int) -> dict[str, Any]:
    """All figures, in this process (PulseAudio first, then audio is imported)."""
    import echo_room
    import voice_env

    results: dict[str, Any] = {"load_before": _uptime(), "nproc": os.cpu_count()}
    running, server, drain = voice_env._start_pulse()
    os.environ["PULSE_SERVER"] = running.env["PULSE_SERVER"]
    os.environ["XDG_RUNTIME_DIR"] = running.env["XDG_RUNTIME_DIR"]
    folder = Path(tempfile.mkdtemp(prefix="oi-voice-bench-"))
    os.environ.setdefault("OI_VOICE_DATA_DIR", str(folder / "data"))
    room = echo_room.Room(running.env)
    try:
        assert room.wait_ready(30), "the echo rig did not start"
        results["on"] = _replies("on")
        results["off"] = _replies("off")
        results["barge_in"] = _barge_in(running, voice_env.Utterances(folder), reps)
        results["webrtc_cpu_ms_per_s"] = _webrtc_alone()
    finally:
        room.stop()
        for proc in (drain, server):
            proc.terminate()
            proc.wait(timeout=10)
    results["load_after"] = _uptime()
    return results


def report(results: dict[str, Any]) -> str:
    """The figures as text."""
    on, off, barge = results["on"], results["off"], results["barge_in"]
    lines = [f"machine: {results['nproc']} cores; load before: {results['load_before']}",
             f"load after: {results['load_after']}", ""]
    if on.get("erle") is not None:
        lines.append(f"echo removed (ERLE) on the rig, {REPLIES} replies: {on['erle']:.1f} dB over all of them "
                     f"(energy-weighted: a glitch under load weighs most); per reply median "
                     f"{statistics.median(on['bursts']):.1f} dB (min {min(on['bursts']):.1f}, max "
                     f"{max(on['bursts']):.1f}), target >= {ERLE_TARGET:.0f} dB")
    lines.append(f"self-started turns per {REPLIES} replies (its own voice cut the reply or made a request): "
                 f"{on['self_started']} with cancellation ({on['barge_ins']} cut, {on['requests']} requests), "
                 f"{off['self_started']} without ({off['barge_ins']} cut, {off['requests']} requests); target 0")
    if barge:
        lines.append(f"barge-in, person's first word -> reply silent (spk.monitor): median "
                     f"{statistics.median(barge) * 1000:.0f} ms (min {min(barge) * 1000:.0f}, max "
                     f"{max(barge) * 1000:.0f}; {len(barge)} runs), target <= {BARGE_IN_TARGET * 1000:.0f} ms")
    if on.get("cpu_ms_per_s") is not None:
        lines.append(f"canceller CPU per second of audio: {on['cpu_ms_per_s']:.1f} ms in the app (alignment "
                     f"included); WebRTC alone {results['webrtc_cpu_ms_per_s']:.1f} ms")
    return "\n".join(lines)


def rows(ctx: Any) -> list[Any]:
    """Rows for tests/bench/run.py (oi_voice only: Open Interpreter has no voice mode)."""
    from harness import OI, OI_VOICE, Row

    results = ctx.run_own_process("echo", Path(__file__), "echo cancellation and barge-in on the rig")
    if results is None:
        return []
    none = {OI: "no voice mode"}
    on, off = results["on"], results["off"]
    out = []
    if on.get("erle") is not None:
        out.append(Row("voice: echo removed on the laptop rig, per reply (ERLE, higher is better)", "dB",
                       {OI_VOICE: on["bursts"]},
                       note=f"target >= {ERLE_TARGET:.0f} dB; {REPLIES} Piper replies, -10 dB, ~40 ms, sox reverb; "
                       f"all replies energy-weighted: {on['erle']:.1f} dB", missing=dict(none)))
    out.append(Row(f"voice: self-started turns per {REPLIES} replies, cancellation on", "turns",
                   {OI_VOICE: [on["self_started"]]}, 0, note="cut by its own voice, or its own voice as a request",
                   missing=dict(none)))
    out.append(Row(f"voice: self-started turns per {REPLIES} replies, cancellation off", "turns",
                   {OI_VOICE: [off["self_started"]]}, note="the failure the rig catches", missing=dict(none)))
    out.append(Row("voice: hands-free barge-in, person's first word -> reply silent", "s",
                   {OI_VOICE: results["barge_in"]}, BARGE_IN_TARGET,
                   note="first word at the microphone -> last loud block of the reply on spk.monitor",
                   missing=dict(none)))
    if on.get("cpu_ms_per_s") is not None:
        out.append(Row("voice: echo canceller CPU per second of audio", "ms", {OI_VOICE: [on["cpu_ms_per_s"]]},
                       note=f"WebRTC AEC3 + NS alone: {results['webrtc_cpu_ms_per_s']:.1f} ms", missing=dict(none)))
    return out


def main(argv: list[str] | None = None) -> int:
    """Measure and print; always 0 (timings are never assertions)."""
    import logging

    from harness import script_main

    logging.getLogger("traitlets").setLevel(logging.ERROR)
    return script_main(__doc__, measure, report, argv, default_reps=3)


if __name__ == "__main__":
    raise SystemExit(main())
