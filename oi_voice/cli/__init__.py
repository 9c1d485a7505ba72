"""``oi``: the terminal chat (flags, rendering, approval prompt, magic commands)."""
