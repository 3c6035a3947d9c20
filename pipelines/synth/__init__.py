"""Synthetic cities with known answers: a roll, the departments' registers, and the truth.

`generate_city(out, households, seed, as_of)` writes one file per contract dataset into `out`
(in the departments' encodings and formats, with realistic damage) and the answers into
`out/truth/`. Nothing in it is real personal data.
"""

from pipelines.synth.city import generate_city

__all__ = ["generate_city"]
