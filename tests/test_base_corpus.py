"""make_base_corpus.py and sentence_bank.base_sentences: the base corpus the repository makes for itself."""

import random
import re
import shutil

import pytest
import soundfile

import make_base_corpus
import sentence_words
from make_demo_corpus import load_normalizer
from sentence_bank import BASE_TEMPLATES, base_sentences, fill_template
from text.cleaners import english_cleaners
from text.symbols import symbols


@pytest.fixture(scope="module")
def sentences() -> list[str]:
    return base_sentences(3000, seed=1)


def test_base_sentences_are_deterministic_distinct_and_counted(sentences):
    assert sentences == base_sentences(3000, seed=1)
    assert len(set(sentences)) == 3000
    assert base_sentences(10, seed=1) == sentences[:10]
    assert base_sentences(0) == []
    with pytest.raises(ValueError, match="count must be 0 or more, got -1"):
        base_sentences(-1)


def test_different_seeds_give_different_sentences(sentences):
    other = base_sentences(3000, seed=2)
    assert len(set(sentences) & set(other)) < 30


def test_base_sentences_are_sentences_of_4_to_16_words(sentences):
    for sentence in sentences:
        assert sentence[0].isupper() and sentence[-1] in ".?!", sentence
        assert 4 <= len(sentence.split()) <= 16, sentence
        assert "|" not in sentence and '"' not in sentence, sentence


def test_base_sentences_normalize_to_the_symbol_set_as_english_cleaners_reads_them(sentences):
    normalize = load_normalizer(written_forms=True)
    allowed = set(symbols)
    for raw in sentences:
        spoken = normalize(raw)
        assert not re.search(r"\d", spoken), (raw, spoken)
        assert set(spoken.lower()) <= allowed, (raw, spoken)
        # what the synthesiser says is what the model reads, from either column of metadata.csv
        assert english_cleaners(raw) == english_cleaners(spoken) == spoken.lower(), (raw, spoken)


def test_base_sentences_exercise_the_text_front_end(sentences):
    text = "\n".join(sentences)
    for written in (r"\$\d+\.\d\d", "£\\d", r"\b\d+(st|nd|rd|th)\b", r"\b\d+\.\d+\b", r"\b\d{1,2}:\d\d\b",
                    r"\d%", r"\b1[0-9]{3}\b", r"\d,\d{3}", r"\bMr\. ", r"\bMrs\. ", r"\bDr\. ", r"\bSt\. ",
                    r"\bCapt\. ", r"\bLt\. ", r"\bJr\. ", r"\?$", r"!$", ";", ","):
        assert len(re.findall(written, text, re.MULTILINE)) >= 10, written


def test_vocabulary_is_broad(sentences):
    assert len(sentence_words.vocabulary()) >= 2200
    spoken = {word for sentence in sentences for word in re.findall(r"[a-z']+", sentence.lower())}
    assert len(spoken) >= 2000  # measured: 2,324 distinct words in these 3000 sentences
    assert len(BASE_TEMPLATES) >= 40


def test_every_word_pool_is_used():
    slots = {slot.split()[-1] for template in BASE_TEMPLATES
             for slot in re.findall(r"\{([^{}|]+)\}", template)}
    pools = {name for name, pool in vars(sentence_words).items()
             if name.isupper() and not name.startswith("_") and isinstance(pool, tuple)}
    # NAMES, TITLES, SURNAMES and ANIMAL_SOUNDS are also drawn by {name}, {person}, {titled}, {animal_sound}
    assert pools - slots <= {"NAMES", "TITLES", "SURNAMES", "ANIMAL_SOUNDS"}


@pytest.mark.parametrize("noun, expected", [
    ("box", "boxes"), ("cherry", "cherries"), ("mouse", "mice"), ("knife", "knives"), ("day", "days"),
    ("guinea pig", "guinea pigs"),
])
def test_plural(noun, expected):
    assert sentence_words.plural(noun) == expected


@pytest.mark.parametrize("word, expected", [
    ("apple", "an apple"), ("hour", "an hour"), ("uniform", "a uniform"), ("useful", "a useful"),
    ("umbrella", "an umbrella"), ("kite", "a kite"),
])
def test_article(word, expected):
    assert sentence_words.article(word) == expected


@pytest.mark.parametrize("slot", ["{FOO}", "{plural OBJECT_VERBS}", "{past OBJECTS}", "{OBJECT_VERBS}",
                                  "{count 2}"])
def test_unknown_slots_are_named(slot):
    with pytest.raises(ValueError, match=re.escape(slot)):
        fill_template(f"It was {slot}.", random.Random(1))


def test_voice_specs_are_parsed():
    voices = make_base_corpus.parse_voices("flite:kal16, espeak-ng:en-us+f3,espeak-ng:en-gb-x-rp")
    assert [(v.engine, v.voice) for v in voices] == [("flite", "kal16"), ("espeak-ng", "en-us+f3"),
                                                     ("espeak-ng", "en-gb-x-rp")]


@pytest.mark.parametrize("specs, message", [
    ("kal16", "'kal16' is not ENGINE:VOICE"),
    ("flite:", "'flite:' is not ENGINE:VOICE"),
    ("", "'' is not ENGINE:VOICE"),
    ("festival:kal16", "engine 'festival' is not one of flite, espeak-ng"),
    ("flite:slt", "flite voice 'slt' is not one of rms, awb, kal16 .the others are kept aside"),
    ("espeak-ng:en us", "'en us' is not an espeak-ng voice name"),
    ("flite:kal16,flite:kal16", "'flite:kal16' is given twice"),
])
def test_bad_voice_specs_are_refused_with_the_reason(specs, message):
    with pytest.raises(ValueError, match=message):
        make_base_corpus.parse_voices(specs)


def test_bad_voices_on_the_command_line_stop_before_any_work(tmp_path):
    with pytest.raises(SystemExit, match="--voices: voice 'flite:slt'"):
        make_base_corpus.main(["--voices", "flite:slt", "--out-dir", str(tmp_path / "c"), "--skip-filelists"])
    assert not (tmp_path / "c").exists()


def test_progress_line():
    assert make_base_corpus.progress_line(120, 3000, 30.0) == "120/3000 utterances, 4.0/s, ETA 0:12:00"
    assert make_base_corpus.progress_line(0, 10, 0.0) == "0/10 utterances, 0.0/s, ETA unknown"


@pytest.mark.skipif(shutil.which("flite") is None or shutil.which("espeak-ng") is None,
                    reason="needs flite and espeak-ng (apt-get install flite espeak-ng)")
def test_a_two_voice_base_corpus_in_lj_speech_layout(tmp_path):
    out = tmp_path / "corpus"
    options = ["--voices", "flite:kal16,espeak-ng:en-us", "--sentences", "6", "--out-dir", str(out),
               "--filelist-dir", str(tmp_path / "lists"), "--name", "tiny", "--n-val", "1", "--n-test", "1",
               "--data-root", str(tmp_path)]
    assert make_base_corpus.main([*options, "--jobs", "2"]) == 0

    ids = [f"BASE-{i:05d}" for i in range(1, 7)]
    assert sorted(path.stem for path in (out / "wavs").iterdir()) == ids
    rows = [line.split("|") for line in (out / "metadata.csv").read_text(encoding="utf-8").splitlines()]
    assert [row[0] for row in rows] == ids and all(len(row) == 3 for row in rows)
    assert [row[1] for row in rows] == base_sentences(6, seed=1)
    assert not any(re.search(r"\d", row[2]) for row in rows)
    durations = []
    for uid in ids:
        audio, rate = soundfile.read(out / "wavs" / f"{uid}.flac")
        assert rate == 22050 and audio.ndim == 1 and 0.5 < len(audio) / rate < 10.0
        durations.append(len(audio) / rate)

    readme = (out / "README.md").read_text(encoding="utf-8")
    assert "| utterances | 6 (BASE-00001 to BASE-00006) |" in readme
    assert f"| total duration | {sum(durations):.1f} s" in readme
    flite, espeak = sum(durations[0::2]), sum(durations[1::2])  # round robin, flite first
    assert "| `flite:kal16` |" in readme and f"| 3 | {flite:.1f} s ({flite / 60:.1f} min) |" in readme
    assert "| `espeak-ng:en-us` |" in readme and f"| 3 | {espeak:.1f} s ({espeak / 60:.1f} min) |" in readme
    assert "python3 make_base_corpus.py --voices flite:kal16,espeak-ng:en-us" in readme

    lists = {split: (tmp_path / "lists" / f"tiny_audio_text_{split}_filelist.txt").read_text().splitlines()
             for split in ("train", "val", "test")}
    assert [len(lines) for lines in lists.values()] == [4, 1, 1]
    assert all(line.startswith("corpus/wavs/BASE-") for lines in lists.values() for line in lines)

    # the same options give the same files, whatever the number of processes
    again = tmp_path / "again"
    options[options.index(str(out))] = str(again)
    assert make_base_corpus.main([*options, "--jobs", "1", "--skip-filelists"]) == 0
    for uid in ids:
        assert (again / "wavs" / f"{uid}.flac").read_bytes() == (out / "wavs" / f"{uid}.flac").read_bytes()
    assert (again / "metadata.csv").read_bytes() == (out / "metadata.csv").read_bytes()


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="needs espeak-ng (apt-get install espeak-ng)")
@pytest.mark.parametrize("voice, message", [("espeak-ng:en-us+nosuch", "espeak-ng has no variant 'nosuch'"),
                                            ("espeak-ng:xx-nosuch", "espeak-ng:xx-nosuch cannot speak")])
def test_voices_the_synthesiser_lacks_stop_the_run_before_it_starts(tmp_path, voice, message):
    with pytest.raises(SystemExit, match=message):
        make_base_corpus.main(["--voices", voice, "--out-dir", str(tmp_path / "c"), "--skip-filelists"])
    assert not (tmp_path / "c").exists()
