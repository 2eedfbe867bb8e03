"""Tag schema: features -> dimensions -> one categorical latent per dimension.

SIGMORPHON 2016 tags name their dimension (``pos=V,tense=PST``); UniMorph
tags are bare features (``V;PST;3;SG``) whose dimension comes from the
UniMorph schema (Sylak-Glassman 2016), :data:`UNIMORPH_DIMENSIONS`. Values
such as ``aspect={IPFV/PFV}`` are one atomic value. Two features of one
dimension in a bundle (``ARGNO1S;ARGAC3S``) join into one value with ``+``.
Unknown features are an error, never dropped silently.

The CoNLL-SIGMORPHON 2017 files also write features the schema table does
not name, and they are read as the shared task meant them: a conjunction
``IN+ALL`` is the two features of one dimension (as ``IN;ALL``); a
disjunction ``PFV/PRF`` or ``NOM/ACC`` is one atomic value of its dimension;
``PRF:COL`` (a typo for ``;`` in a few files) is two features; spaces around
a feature are ignored; and the other spellings and language-specific
features they use are in ``_VARIANTS``.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from reinflect.errors import ReinflectError, did_you_mean

ABSENT = "<absent>"  # class 0 of every dimension: the bundle has no value there

_SCHEMA = {  # in the usual UniMorph order of a bundle (V;3;SG;PRS)
    "POS": "N PROPN ADJ PRO CLF ART DET V ADV AUX ADP COMP CONJ NUM PART INTJ",
    "VerbForm": "V.PTCP V.MSDR V.CVB",
    "Finiteness": "FIN NFIN",
    "Person": "0 1 2 3 4 INCL EXCL PRX OBV",
    "Number": "SG PL GRPL DU TRI PAUC GRPAUC INVN",
    "Tense": "PRS PST FUT IMMED HOD 1DAY RCT RMT",
    "Aspect": "IPFV PFV PRF PROG PROSP ITER HAB",
    "Mood": "IND SBJV REAL IRR AUPRP AUNPRP IMPRS JUS CND PURP INTEN POT LKLY ADM OBLIG DEB "
    "PERM DED SIM OPT IMP COND",
    "Case": "NOM ACC ERG ABS NOMS DAT BEN PRP GEN REL PRT INS COM VOC COMPV EQTV PRIV PROPR AVR "
    "FRML TRANS BYWAY INTER AT POST IN CIRC ANTE APUD ON ONHR ONVR SUB REM PROXM ESS ALL ABL "
    "APPRX TERM LOC",
    "Gender": "MASC FEM NEUT",
    "Animacy": "ANIM INAN HUM NHUM",
    "Definiteness": "DEF INDF SPEC NSPEC",
    "Comparison": "CMPR SPRL AB RL EQT",
    "Voice": "ACT MID PASS ANTIP DIR INV AGFOC PFOC LFOC BFOC ACFOC IFOC CFOC",
    "Valency": "INTR TR DITR REFL RECP CAUS APPL",
    "Polarity": "POS NEG",
    "Politeness": "INFM FORM ELEV HUMB POL AVOID LOW HIGH STELEV STSUPR LIT FOREG COL",
    "Evidentiality": "FH DRCT SEN VISU NVSEN AUD NFH QUOT RPRT HRSY INFER ASSUM",
    "Deixis": "PROX MED REMT REF1 REF2 NOREF PHOR VIS NVIS ABV EVEN BEL",
    "Interrogativity": "DECL INT",
    "Information": "TOP FOC",
    "SwitchReference": "SS SSADV DS DSADV OR SIMMA SEQMA LOG",
    "Possession": "ALN NALN PSSD",
}
# Features of the CoNLL-SIGMORPHON 2017 files outside the table above: other
# spellings (INST, NDEF, PAST, V.PCTP, MASV, LgSPEC8), and language-specific
# ones given the dimension their bundles imply (Turkish 2S, the predicate's
# person and number; Quechua's derivations; Hebrew's SGDEF; Armenian's
# connegative CONN and converb futures FUT1/FUT2; Irish STRONG/WEAK plurals).
_VARIANTS = {
    "Case": "INST",
    "Gender": "MASV",
    "Definiteness": "NDEF SGDEF PLDEF",
    "Tense": "PAST PRES FUT1 FUT2",
    "Mood": "HYP",
    "Aspect": "FREQ DUR RES",
    "VerbForm": "V.CONV V.NFIN V.PTCP.PST V.PTCP.PRS V.PCTP CONN",
    "Voice": "AUTO",
    "Valency": "CAUSE",
    "Agreement": "1S 2S 3S 1P 2P 3P",
    "Derivation": "EXCLV DISTR CAUSV GEADJ BEADJ AGT",
    "Declension": "STRONG WEAK",
    "LanguageSpecific": "LGSPEC LgSPEC8",
}
UNIMORPH_DIMENSIONS: dict[str, str] = {
    f: dim for table in (_SCHEMA, _VARIANTS) for dim, fs in table.items() for f in fs.split()
}
# Families named by prefix: argument marking (ARGNO1S), possessor (PSS3P),
# language-specific (LGSPEC1), Bantu / Nakh noun classes (BANTU1, NAKH3).
_PREFIXES = {"ARG": "Argument", "PSS": "Possession", "LGSPEC": "LanguageSpecific"}
_PREFIXES |= {"BANTU": "Gender", "NAKH": "Gender"}


def unimorph_dimension(feature: str) -> str | None:
    """The UniMorph dimension of a bare feature, or None when unknown."""
    if feature in UNIMORPH_DIMENSIONS:
        return UNIMORPH_DIMENSIONS[feature]
    for prefix, dim in _PREFIXES.items():
        if feature.startswith(prefix) and len(feature) > len(prefix):
            return dim
    return None


def _features(feature: str) -> list[tuple[str, str]] | None:
    """The (dimension, value) pairs of one ``;``-separated feature (see the module
    docstring for ``+``, ``/`` and ``:``), or None when a part is unknown."""
    dim = unimorph_dimension(feature)
    if dim is not None:
        return [(dim, feature)]
    for sep in "/+:":
        if sep in feature:
            parts = feature.split(sep)
            dims = [unimorph_dimension(p) for p in parts]
            if None in dims or (sep != ":" and len(set(dims)) > 1):
                return None
            if sep == "/":
                return [(dims[0], feature)]
            return list(zip(dims, parts, strict=True))
    return None


def _split_2016(raw: str) -> list[str]:
    """Split on commas outside braces, so ``{A,B}`` stays one value."""
    parts, depth, cur = [], 0, []
    for ch in raw:
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    parts.append("".join(cur))
    return parts


def parse(raw: str, *, where: str = "") -> dict[str, str]:
    """A tag string -> ``{dimension: value}``; errors name ``where`` (file:line)."""
    prefix = f"{where}: " if where else ""
    raw = raw.strip()
    if not raw:
        raise ReinflectError(f"{prefix}empty tag string")
    out: dict[str, str] = {}
    if "=" in raw:
        for part in _split_2016(raw):
            key, sep, value = part.partition("=")
            if not sep or not key or not value:
                raise ReinflectError(f"{prefix}bad tag {part!r} in {raw!r}: expected key=value")
            if key in out:
                raise ReinflectError(f"{prefix}dimension {key!r} given twice in {raw!r}")
            out[key] = value
        return out
    unknown = []
    for feat in raw.split(";"):
        feat = feat.strip()
        if not feat:
            raise ReinflectError(f"{prefix}empty feature in {raw!r}")
        pairs = _features(feat)
        if pairs is None:
            unknown.append(feat)
            continue
        for dim, value in pairs:
            out[dim] = "+".join(sorted({*out[dim].split("+"), value})) if dim in out else value
    if unknown:
        hint = did_you_mean(unknown[0], UNIMORPH_DIMENSIONS)
        raise ReinflectError(
            f"{prefix}unknown UniMorph feature(s) {', '.join(unknown)} in {raw!r}{hint} "
            "(key=value tags name a dimension for any value)"
        )
    return out


def render(bundle: dict[str, str], *, unimorph: bool) -> str:
    """``{dimension: value}`` -> a tag string in the 2016 or UniMorph style."""
    if unimorph:
        # The conventional order: POS first, then the schema's order of dimensions.
        order = {d: i for i, d in enumerate(_SCHEMA)}
        dims = sorted(bundle, key=lambda d: (order.get(d, len(order)), d))
        return ";".join(v for dim in dims for v in bundle[dim].split("+"))
    return ",".join(f"{k}={v}" for k, v in bundle.items())


@dataclass
class Schema:
    """Dimensions and their values, seen in training; class 0 is :data:`ABSENT`.

    ``bundles`` counts the full tag bundles seen, for partial-tag resolution.
    """

    dimensions: list[str]
    values: dict[str, list[str]]
    unimorph: bool
    bundles: Counter = field(default_factory=Counter)

    @classmethod
    def build(cls, tag_strings, *, where: str = "") -> Schema:
        seen: dict[str, set[str]] = {}
        bundles: Counter = Counter()
        unimorph = None
        for i, raw in enumerate(tag_strings, start=1):
            bundle = parse(raw, where=f"{where}:{i}" if where else "")
            style = "=" not in raw
            unimorph = style if unimorph is None else unimorph
            for dim, val in bundle.items():
                seen.setdefault(dim, set()).add(val)
            bundles[tuple(sorted(bundle.items()))] += 1
        if unimorph is None:
            raise ReinflectError(f"{where or 'tags'}: no tags to build a schema from")
        dims = sorted(seen)
        return cls(dims, {d: [ABSENT, *sorted(seen[d])] for d in dims}, unimorph, bundles)

    @property
    def sizes(self) -> list[int]:
        """Classes per dimension (values seen + 1 absent)."""
        return [len(self.values[d]) for d in self.dimensions]

    def encode(self, bundle: dict[str, str]) -> list[int]:
        """``{dimension: value}`` -> one class index per dimension (0 = absent)."""
        extra = sorted(set(bundle) - set(self.dimensions))
        if extra:
            known = ", ".join(self.dimensions)
            hint = did_you_mean(extra[0], self.dimensions)
            raise ReinflectError(
                f"unknown tag dimension(s) {', '.join(extra)}{hint} (known: {known})"
            )
        idx = []
        for d in self.dimensions:
            v = bundle.get(d, ABSENT)
            if v not in self.values[d]:
                known = ", ".join(self.values[d][1:])
                hint = did_you_mean(v, self.values[d][1:])
                raise ReinflectError(f"unknown value {v!r} for {d}{hint} (known: {known})")
            idx.append(self.values[d].index(v))
        return idx

    def decode(self, indices: list[int]) -> dict[str, str]:
        return {
            d: self.values[d][i] for d, i in zip(self.dimensions, indices, strict=True) if i != 0
        }

    def to_dict(self) -> dict:
        return {
            "dimensions": self.dimensions,
            "values": self.values,
            "unimorph": self.unimorph,
            "bundles": [[list(map(list, b)), n] for b, n in self.bundles.items()],
        }

    @classmethod
    def from_dict(cls, d: dict) -> Schema:
        bundles = Counter({tuple(tuple(kv) for kv in b): n for b, n in d["bundles"]})
        return cls(
            list(d["dimensions"]),
            {k: list(v) for k, v in d["values"].items()},
            d["unimorph"],
            bundles,
        )

    def resolve(self, source: dict[str, str], change: dict[str, str]) -> dict[str, str]:
        """Partial tags: keep ``source`` but override the ``change`` dimensions, then
        return the most frequent training bundle that agrees with every changed
        dimension, preferring the most source dimensions kept.
        """
        wanted = source | change
        best, best_key = None, None
        for bundle, count in self.bundles.items():
            b = dict(bundle)
            if any(b.get(k) != v for k, v in change.items()):
                continue
            agree = sum(b.get(k) == v for k, v in wanted.items())
            extra = sum(k not in wanted for k in b)
            key = (agree, -extra, count)
            if best_key is None or key > best_key:
                best, best_key = b, key
        if best is None:
            shown = render(change, unimorph=self.unimorph)
            raise ReinflectError(f"no tag bundle seen in training has {shown}")
        return best
