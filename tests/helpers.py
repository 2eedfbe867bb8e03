"""Small fixtures shared by the tests: toy reinflection pairs and a small model size."""

from pathlib import Path

TOY = [
    ("walk", "V;PST", "walked"),
    ("walks", "V;PST", "walked"),
    ("play", "V;PST", "played"),
    ("plays", "V;PST", "played"),
    ("jump", "V;3;SG;PRS", "jumps"),
    ("jumped", "V;3;SG;PRS", "jumps"),
    ("talk", "V;3;SG;PRS", "talks"),
    ("talked", "V;3;SG;PRS", "talks"),
    ("cat", "N;PL", "cats"),
    ("dog", "N;PL", "dogs"),
    ("cats", "N;SG", "cat"),
    ("dogs", "N;SG", "dog"),
    ("look", "V;PST", "looked"),
    ("looks", "V;NFIN", "look"),
    ("played", "V;NFIN", "play"),
    ("walked", "V;NFIN", "walk"),
    ("kick", "V;PST", "kicked"),
    ("kicks", "V;NFIN", "kick"),
    ("rat", "N;PL", "rats"),
    ("rats", "N;SG", "rat"),
]
SMALL = dict(char_embedding=32, encoder_hidden=64, latent=16, tag_embedding=32, decoder_hidden=64)


def write_rows(path: Path, rows) -> Path:
    """Tab-separated rows, one per line."""
    path.write_text("".join("\t".join(r) + "\n" for r in rows))
    return path
