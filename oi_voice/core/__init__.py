"""The engine: the interpreter loop, LMC messages, approval, context and history.

It knows no screen, no audio and no Qt; front ends attach to it through
``Interpreter`` (sync) or ``Interpreter.achat`` (async, on the engine thread).
"""
