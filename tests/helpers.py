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


def train_supervised(train: Path, dev: Path, out: Path, model_cfg, *, steps: int = 600):
    """A supervised run of ``steps`` updates (batch 32, a dev check every 100) on
    ``train``; returns the torch predictor of the kept model."""
    from reinflect import config
    from reinflect.morph import torch_engine
    from reinflect.morph import train as morph_train

    trainer = morph_train.Trainer(
        train_path=train,
        dev_path=dev,
        out_dir=out,
        model_cfg=model_cfg,
        train_cfg=config.MorphTrainConfig(
            batch_size=32,
            max_steps=steps,
            eval_every=100,
            wordfreq_words=0,
            seed=0,
            supervised_only=True,
        ),
        progress=False,
    )
    trainer.fit()
    return torch_engine.Reinflector(trainer.kept_model.eval(), trainer.vocab, trainer.schema)


def greedy_accuracy(r, pairs) -> float:
    """The share of (source, tags, target) ``pairs`` that ``r`` gets right greedily."""
    from reinflect.morph import tags

    out = r.inflect([a for a, _, _ in pairs], [tags.parse(t) for _, t, _ in pairs], beam=1)
    return sum(o[0][0] == b for o, (_, _, b) in zip(out, pairs, strict=True)) / len(pairs)
