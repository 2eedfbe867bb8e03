"""SIGMORPHON 2016 and UniMorph readers and writers on small fixtures."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reinflect.errors import ReinflectError
from reinflect.morph import corpus, formats, tags

T1 = "aalen\tpos=V,mood=IND,tense=PRS,per=1,num=PL\taalen\nnull\tpos=N,num=PL\tnulls\n"
T2 = "pos=ADJ,case=ACC\taktivere\tpos=ADJ,case=NOM,aspect={IPFV/PFV}\taktivstes\n"
U17 = "touch\ttouching\tV;V.PTCP;PRS\nnan\tNA\tN;PL\n"
U17_COVERED = "touch\t\tV;V.PTCP;PRS\n"


def _file(tmp_path, text, name="f"):
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


@pytest.mark.parametrize(
    "text,fmt",
    [
        (T1, "sigmorphon2016"),
        (T2, "sigmorphon2016-t2"),
        (U17, "unimorph"),
        (U17_COVERED, "unimorph"),
    ],
)
def test_detects_and_round_trips(tmp_path, text, fmt):
    p = _file(tmp_path, text)
    assert formats.detect(p) == fmt
    examples = formats.read(p)
    formats.write(tmp_path / "out", examples, fmt)
    assert (tmp_path / "out").read_text() == text


def test_null_nan_na_are_words(tmp_path):
    ex = formats.read(_file(tmp_path, T1))[1]
    assert ex.source == "null" and ex.target == "nulls"
    u = formats.read(_file(tmp_path, U17))[1]
    assert (u.source, u.target) == ("nan", "NA")


def test_unimorph_and_covered_fields(tmp_path):
    ex = formats.read(_file(tmp_path, U17))[0]
    assert (ex.source, ex.target, ex.target_tags, ex.line) == (
        "touch",
        "touching",
        "V;V.PTCP;PRS",
        1,
    )
    covered = formats.read(_file(tmp_path, U17_COVERED))[0]
    assert covered.target is None
    t2 = formats.read(_file(tmp_path, T2))[0]
    assert t2.source_tags == "pos=ADJ,case=ACC" and "aspect={IPFV/PFV}" in t2.target_tags


def test_lemma_tags_form_layout(tmp_path):
    p = _file(tmp_path, "walk\tV;PST\twalked\n")
    assert formats.detect(p) == "unimorph-ltf"
    assert formats.read(p)[0].target == "walked"


def test_bad_rows_name_file_and_line(tmp_path):
    p = _file(tmp_path, "touch\ttouching\tV;PRS\nbroken line\n", name="bad.tsv")
    with pytest.raises(
        ReinflectError, match=r"bad\.tsv:2: expected 3 tab-separated columns, found 1"
    ):
        formats.read(p)
    p = _file(tmp_path, "go\t\tV;PST\n\tx\tV;PST\n", name="empty.tsv")
    with pytest.raises(ReinflectError, match=r"empty\.tsv:2: empty source word"):
        formats.read(p, "unimorph")
    p = _file(tmp_path, "go\tV;PST\twent\n  \tV;PST\tx\ngo\tV;PST\t \n", name="blank.tsv")
    with pytest.raises(ReinflectError, match=r"blank\.tsv:2: empty source word"):
        formats.read(p, "unimorph-ltf")
    assert [ex.line for ex in formats.read(p, "unimorph-ltf", skip_bad=True)] == [1]
    with pytest.raises(ReinflectError, match=r"empty file"):
        formats.read(_file(tmp_path, "", name="nothing"))
    (tmp_path / "latin1").write_bytes("gehen\tV;PST\tging\nstra\xdfe\tN;SG\tx\n".encode("latin-1"))
    with pytest.raises(ReinflectError, match=r"latin1:2: not UTF-8"):
        formats.read(tmp_path / "latin1")
    with pytest.raises(ReinflectError, match="unknown format 'csv'"):
        formats.read(p, "csv")


def test_shared_files_read(data_mirror):
    ex = formats.read(data_mirror / "sigmorphon2016" / "turkish-task3-dev")
    assert len(ex) == 1600 and all(e.target for e in ex)
    t2 = formats.read(data_mirror / "sigmorphon2016" / "german-task2-train")
    assert (
        formats.detect(data_mirror / "sigmorphon2016" / "german-task2-train") == "sigmorphon2016-t2"
    )
    assert t2[0].source_tags
    u = formats.read(data_mirror / "conll2017" / "task1" / "english-train-low")
    assert (
        len(u) == 100
        and formats.detect(data_mirror / "conll2017" / "task1" / "english-dev") == "unimorph"
    )


@pytest.mark.slow
def test_every_conll2017_train_and_dev_file_reads(data_mirror):
    """The 2017 files write conjunctions (IN+ALL), disjunctions (PFV/PRF), typos
    (PRF:COL, ' PL', LgSPEC8) and language-specific features: all 52 languages'
    train (low, medium, high) and dev files read, and build a tag schema."""
    files = sorted((data_mirror / "conll2017" / "task1").glob("*-train-*"))
    files += sorted((data_mirror / "conll2017" / "task1").glob("*-dev"))
    assert len(files) > 200
    for f in files:
        tags.Schema.build([e.target_tags for e in formats.read(f)], where=str(f))


def test_detection_is_not_decided_by_a_stray_row(tmp_path):
    rows = [("zeme", "zemes", "N;GEN;SG")] * 19 + [("lai", "lai", "V;LGSPEC2;LgSPEC8")]
    f = tmp_path / "latvian-dev"
    f.write_text("".join("\t".join(r) + "\n" for r in rows), encoding="utf-8")
    assert formats.detect(f) == "unimorph"
    assert formats.read(f)[-1].target_tags == "V;LGSPEC2;LgSPEC8"


word = st.text(
    st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp"), blacklist_characters="\t\r\n"),
    min_size=1,
    max_size=12,
).filter(str.strip)  # a word of only spaces is a bad row
feat = st.sampled_from(["V", "N", "PST", "PRS", "SG", "PL", "3", "V.PTCP"])


@settings(deadline=None)
@given(src=word, tgt=word, tags=st.lists(feat, min_size=1, max_size=4))
def test_unimorph_property_round_trip(tmp_path_factory, src, tgt, tags):
    ex = formats.Example(source=src, target=tgt, target_tags=";".join(tags), line=1)
    p = tmp_path_factory.mktemp("rt") / "f"
    formats.write(p, [ex], "unimorph")
    assert formats.read(p, "unimorph") == [ex]


def test_unlabeled_pool_never_reads_test_files(tmp_path):
    from reinflect.morph import unlabeled

    (tmp_path / "xx-task3-train").write_text("walk\tpos=V,tense=PST\twalked\n")
    (tmp_path / "xx-task1-dev").write_text("go\tpos=V,tense=PST\twent\n")
    (tmp_path / "xx-task3-test").write_text("secret\tpos=V,tense=PST\tsecrets\n")
    (tmp_path / "xx-task3-test-covered").write_text("hidden\tpos=V,tense=PST\n")
    files = unlabeled.sibling_files(tmp_path / "xx-task3-train")
    assert sorted(f.name for f in files) == ["xx-task1-dev", "xx-task3-train"]
    words, counts = unlabeled.pool(charset=set("abcdefghijklmnopqrstuvwxyz"), files=files)
    assert set(words) == {"walk", "walked", "go", "went"}
    assert counts["total"] == 4
    # A dev file gives its inputs only: its targets are the answers dev is scored on.
    dev = [f for f in files if unlabeled.is_dev(f)]
    assert [f.name for f in dev] == ["xx-task1-dev"]
    words, _ = unlabeled.pool(
        charset=set("abcdefghijklmnopqrstuvwxyz"),
        files=[f for f in files if f not in dev],
        source_files=dev,
    )
    assert set(words) == {"walk", "walked", "go"}
    assert not unlabeled.is_dev("german-train-medium") and unlabeled.is_dev("german-dev")
    with pytest.raises(ReinflectError, match="test files are never used"):
        unlabeled.pool(charset=set("abc"), files=[tmp_path / "xx-task3-test"])
    with pytest.raises(ReinflectError, match="test files are never used"):
        unlabeled.pool(charset=set("abc"), user_list=tmp_path / "xx-task3-test-covered")


def test_unlabeled_filters_charset_and_guards_wordfreq(tmp_path):
    from reinflect.morph import unlabeled

    (tmp_path / "words.txt").write_text("abc\nabd\nabc\nxyz\n")
    words, counts = unlabeled.pool(charset=set("abcd"), user_list=tmp_path / "words.txt")
    assert words == ["abc", "abd"] and counts["user_off_charset"] == 1
    assert unlabeled.wordfreq_words("georgian", 100) == []  # no list: never another language's
    assert unlabeled.wordfreq_words("klingon", 100) == []


@settings(deadline=None)
@given(
    rows=st.lists(
        st.tuples(word, st.dictionaries(st.sampled_from(["pos", "case", "num"]), word), word),
        min_size=1,
        max_size=5,
    )
)
def test_sigmorphon2016_property_round_trip(tmp_path_factory, rows):
    exs = [
        formats.Example(source=s, target=t, target_tags=tags_of(b), line=i)
        for i, (s, b, t) in enumerate(rows, start=1)
        if b and all(v.strip() and not set(v) & set(",={}") for v in b.values())
    ]
    if not exs:
        return
    p = tmp_path_factory.mktemp("rt16") / "f"
    formats.write(p, exs, "sigmorphon2016")
    back = formats.read(p, "sigmorphon2016")
    assert [(e.source, e.target_tags, e.target) for e in back] == [
        (e.source, e.target_tags, e.target) for e in exs
    ]


def tags_of(bundle: dict[str, str]) -> str:
    return ",".join(f"{k}={v.strip()}" for k, v in bundle.items())


@settings(max_examples=300, deadline=None)
@given(blob=st.binary(max_size=400), skip=st.booleans())
def test_random_bytes_give_only_documented_errors(tmp_path_factory, blob, skip):
    """Readers never crash on garbage: a ReinflectError naming the file, or
    examples that survive a write-read round trip."""
    p = tmp_path_factory.mktemp("fuzz") / "f"
    p.write_bytes(blob)
    for fmt in (None, *formats.FORMATS):
        try:
            exs = formats.read(p, fmt, skip_bad=skip)
        except ReinflectError as e:
            assert str(p) in str(e) or "unknown format" in str(e)
            continue
        out = p.with_name("again")
        fmt = fmt or formats.detect(p)
        formats.write(out, exs, fmt)
        again = formats.read(out, fmt)
        assert [(e.source, e.target_tags, e.target, e.source_tags) for e in again] == [
            (e.source, e.target_tags, e.target, e.source_tags) for e in exs
        ]


@settings(max_examples=300, deadline=None)
@given(text=st.text(max_size=300))
def test_random_text_gives_only_documented_errors(tmp_path_factory, text):
    p = tmp_path_factory.mktemp("fuzzt") / "f"
    p.write_text(text.replace("\r", ""), encoding="utf-8")
    for fmt in (None, *formats.FORMATS):
        try:
            formats.read(p, fmt, skip_bad=True)
        except ReinflectError:
            pass


def test_training_files_of_tasks_1_to_3_become_task3_pairs(tmp_path):
    """The "standard" setting: task-1 rows are lemma -> form pairs, task-2 rows
    give their pair and its reverse, repeats are kept once, test files refused."""
    from helpers import write_rows

    t1 = write_rows(tmp_path / "x-task1-train", [("go", "pos=V,tense=PST", "went")])
    t2 = write_rows(
        tmp_path / "x-task2-train",
        [("pos=V,tense=PRS", "goes", "pos=V,tense=PST", "went")],
    )
    t3 = write_rows(
        tmp_path / "x-task3-train",
        [("goes", "pos=V,tense=PST", "went"), ("go", "pos=V,tense=PST", "went")],
    )
    pairs = corpus.read_training([t1, t2, t3])
    assert [(p.source, p.target_tags, p.target) for p in pairs] == [
        ("go", "pos=V,tense=PST", "went"),
        ("goes", "pos=V,tense=PST", "went"),
        ("went", "pos=V,tense=PRS", "goes"),
    ]
    covered = write_rows(tmp_path / "y-task3-train", [("goes", "pos=V,tense=PST")])
    with pytest.raises(ReinflectError, match=r"y-task3-train:1: no target form"):
        corpus.read_training([t1, covered])
    with pytest.raises(ReinflectError, match="test files are never used"):
        corpus.read_training([t1, tmp_path / "x-task3-test"])


def test_the_dev_files_answers_never_enter_the_unlabeled_pool(tmp_path):
    from reinflect.morph import corpus

    train = tmp_path / "words.tsv"
    train.write_text("walk\twalked\tV;PST\ntalk\ttalks\tV;3;SG;PRS\n")
    held = tmp_path / "held.tsv"  # the dev file, whatever its name
    held.write_text("stalk\tstalked\tV;PST\n")
    c = corpus.Corpus.read(train, held, wordfreq_words=0, warn=False)
    assert set(c.unlabeled_words) == {"walk", "walked", "talk", "talks", "stalk"}
