"""Deterministic English sentences for the corpora the repository makes: the demo's written list aside
(make_demo_corpus.py), a small grammar for a second voice or a larger demo, and a broad one for the base
corpus (make_base_corpus.py).

    from sentence_bank import generated_sentences, base_sentences
    generated_sentences(400, seed=1)  # the same 400 sentences on every machine
    base_sentences(3000, seed=1)      # likewise, from the base grammar

The small grammar is written for this project: statements, questions and exclamations of 4 to 14 words
over about 600 common words (people, places, things, actions, qualities), with numbers and times written
as a reader says them, so that the text covers English spelling and sounds broadly and a speech
recognizer's language model finds the sentences plausible. The base grammar, below it, does the same
at a larger scale and writes numbers and abbreviations in digits and short forms for the text front end.
"""

import random
import re
from collections.abc import Callable

import sentence_words as words

NAMES = ("Anna Ben Carla David Emma Frank Grace Henry Irene Jack Karen Leo Maria Nick Olivia Peter Rosa "
         "Sam Tina Victor Wendy Yusuf Zoe Alice Bruno Clara Diego Elena Felix Hugo Julia Kevin Laura Martin "
         "Nora Oscar Paula Ruth Simon Thomas Ursula Walter").split()
PLACES = ("the kitchen, the garden, the station, the library, the market, the harbor, the office, "
          "the school, the village, the river, the forest, the beach, the museum, the bakery, "
          "the hospital, the airport, the farm, the bridge, the valley, the hotel, the park, the church, "
          "the factory, the island, the mountain, the city, the square, the theater, the garage, "
          "the hallway").split(", ")
THINGS = ("book letter key window door table chair lamp coat hat bottle glass cup plate basket bicycle car "
          "train boat ticket map phone camera clock picture blanket candle box bag wallet umbrella ladder "
          "hammer rope bucket kettle piano guitar violin drum ball kite newspaper envelope pencil notebook "
          "mirror carpet pillow bench fence gate roof wall engine wheel shirt shoe glove scarf ring").split()
ANIMALS = ("dog cat horse cow sheep goat rabbit fox wolf bear deer mouse owl duck goose swan eagle crow "
           "frog snake turtle fish whale dolphin bee spider").split()
FOODS = ("apples pears oranges grapes lemons potatoes carrots onions beans eggs cookies pies muffins "
         "noodles tomatoes peaches plums cherries sandwiches biscuits").split()
ADJECTIVES = ("old new small large heavy light bright dark quiet noisy warm cold wet dry clean dirty empty "
              "full soft hard smooth rough sharp round narrow wide tall short strange simple careful famous "
              "friendly angry happy tired hungry brave gentle proud lucky silver golden wooden broken "
              "yellow green blue red white black purple brown gray pink").split()
ADVERBS = ("slowly quickly quietly carefully suddenly happily gently loudly finally rarely always never "
           "often soon early late together again").split()
# (past tense, base form) of transitive verbs that take a thing
VERBS = [tuple(pair.split("/")) for pair in (
    "found/find bought/buy sold/sell carried/carry dropped/drop lifted/lift painted/paint cleaned/clean "
    "opened/open closed/close fixed/fix moved/move hid/hide lost/lose borrowed/borrow returned/return "
    "wrapped/wrap washed/wash checked/check brought/bring took/take kept/keep held/hold watched/watch "
    "pushed/push pulled/pull packed/pack shared/share ordered/order noticed/notice "
    "described/describe").split()]
EATS = [tuple(pair.split("/")) for pair in "ate/eat cooked/cook baked/bake served/serve tasted/taste".split()]
MOTIONS = [tuple(pair.split("/")) for pair in (
    "walked/walk ran/run drove/drive hurried/hurry wandered/wander rode/ride swam/swim climbed/climb "
    "traveled/travel returned/return").split()]
TIMES = ("this morning, last night, yesterday, on Monday, on Tuesday, on Wednesday, on Thursday, on Friday, "
         "on Saturday, on Sunday, in the spring, in the summer, in the autumn, in the winter, after lunch, "
         "before dinner, at midnight, at dawn, every evening, last week, next year").split(", ")
NUMBERS = ("two three four five six seven eight nine ten eleven twelve fifteen twenty thirty forty fifty "
           "sixty").split()
CLOCK = ("one two three four five six seven eight nine ten eleven twelve").split()
PREPOSITIONS = ("near by behind under beside above inside").split()


def _article(word: str) -> str:
    return f"an {word}" if word[0] in "aeiou" else f"a {word}"


def _sentence(rng: random.Random) -> str:
    name, other = rng.sample(NAMES, 2)
    place, time = rng.choice(PLACES), rng.choice(TIMES)
    thing, adjective, animal = rng.choice(THINGS), rng.choice(ADJECTIVES), rng.choice(ANIMALS)
    past, base = rng.choice(VERBS)
    ate, eat = rng.choice(EATS)
    went, go = rng.choice(MOTIONS)
    food, number, adverb = rng.choice(FOODS), rng.choice(NUMBERS), rng.choice(ADVERBS)
    preposition, hour = rng.choice(PREPOSITIONS), rng.choice(CLOCK)
    templates = (
        f"{name} {past} {_article(adjective)} {thing} in {place}.",
        f"The {adjective} {animal} slept {preposition} the {thing}.",
        f"{name} and {other} {ate} {food} {time}.",
        f"{time.capitalize()}, {name} {went} {adverb} to {place}.",
        f"Did {name} {base} the {thing} {time}?",
        f"Why did {other} {go} to {place} so {rng.choice(['early', 'late', 'often'])}?",
        f"There were {number} {animal}s {preposition} the {adjective} {thing}.",
        f"The train to {place.removeprefix('the ')} leaves at {hour} o'clock.",
        f"Please {base} the {adjective} {thing} before {other} arrives.",
        f"How many {food} did {name} {eat} at {place}?",
        f"{other} said the {thing} was too {adjective} to {base}.",
        f"We {went} {adverb} past {place} and saw {_article(adjective)} {animal}.",
        f"What a {adjective} {thing} {name} found {time}!",
        f"{name} never {past} anything {preposition} the {thing} again.",
        f"Is the {thing} in {place} {adjective} or {rng.choice(ADJECTIVES)}?",
        f"{number.capitalize()} people {ate} {food} with {name} {time}.",
    )
    return rng.choice(templates)


def generated_sentences(count: int, seed: int = 1) -> list[str]:
    """`count` different sentences, the same for the same (count, seed) on every machine and Python."""
    rng = random.Random(seed)
    sentences: list[str] = []
    seen: set[str] = set()
    while len(sentences) < count:
        sentence = _sentence(rng)
        sentence = sentence[0].upper() + sentence[1:]
        if sentence not in seen:
            seen.add(sentence)
            sentences.append(sentence)
    return sentences


# --- The base grammar ----------------------------------------------------------------------------------
# For the base corpus (make_base_corpus.py). Everything above stays as it was: corpora made with
# generated_sentences depend on it. The base grammar is broader: about 2,300 words (sentence_words.py)
# in 97 templates, with numbers, prices, times, dates, percentages and titles written as people write
# them ("$3.50", "7:30", "the 21st of June", "Dr. Patel"), so that a corpus of it also trains the text
# front end's readings of them.
#
# A template is a sentence with slots, filled left to right:
#   {OBJECTS}                a word of that pool of sentence_words
#   {plural FOODS}           the plural of one; {a OBJECTS} with its article ("an apple")
#   {past OBJECT_VERBS}      a verb's past; also {base ...}, {participle ...}, {third ...} ("bakes")
#   {early|late|often}       one of these words
#   {name}, {other}          a first name; {other} is one not used yet in the sentence
#   {person}, {titled}       'Emma', 'the baker', 'my aunt' or 'Dr. Patel'; {titled} is only the last kind
#   {count 2 30}, {ordinal 1 31}, {big_count}, {year}, {price}, {decimal}, {clock}, {percent}: numbers
#   {animal_sound}           'owl hooted'
# The order of the templates and their text are part of the corpus: editing one changes every sentence
# drawn after its first use.
BASE_TEMPLATES: tuple[str, ...] = (
    # Statements.
    "{person} {past OBJECT_VERBS} {a OBJECT_ADJECTIVES} {OBJECTS} at the {PLACES}.",
    "The {ANIMAL_ADJECTIVES} {ANIMALS} {ANIMAL_ACTIONS} {under|beside|behind|near} the {SURFACES}.",
    "{person} and {name} {past FOOD_VERBS} {plural FOODS} {PAST_TIMES}.",
    "{PAST_TIMES}, {person} {past MOTIONS} {MANNER_ADVERBS} to the {PLACES}.",
    "My {RELATIVES} works as {a PROFESSIONS} in {CITIES}.",
    "The {PROFESSIONS} {past OBJECT_VERBS} the {OBJECTS} {MANNER_ADVERBS}.",
    "{person} has never {participle OBJECT_VERBS} {a OBJECTS} before.",
    "Our {RELATIVES} {FREQUENCY_ADVERBS} {third FOOD_VERBS} {plural FOODS} {HABIT_TIMES}.",
    "The {PLACES} was {PLACE_ADJECTIVES} and {PLACE_ADJECTIVES} {PAST_TIMES}.",
    "It was {WEATHER} in {CITIES} {PAST_TIMES}.",
    "It will be {WEATHER} in {CITIES} {FUTURE_TIMES}.",
    "The {ANIMAL_ADJECTIVES} {animal_sound} {all night|all morning|at dawn|again|for an hour|in the barn}.",
    "{person} {past SAYINGS} that the {OBJECTS} was {OBJECT_ADJECTIVES}.",
    "{name} and {other} live in {CITIES} with their {count 2 9} {plural PETS}.",
    "The {plural OBJECTS} in the {ROOMS} are {OBJECT_ADJECTIVES}.",
    "There are {count 2 30} {plural OBJECTS} on the {SURFACES}.",
    "We waited {count 5 59} minutes for the {VEHICLES}.",
    "The {VEHICLES} to {CITIES} leaves at {clock}.",
    "{name} was born in {CITIES} in {year}.",
    "The {BUILDINGS} was built in {year}.",
    "{person} paid {price} for {a OBJECT_ADJECTIVES} {OBJECTS}.",
    "{a FOODS} costs {price} at the {SHOPS}.",
    "{person} finished {ordinal 1 30} in the {CONTESTS}.",
    "{person}'s office is on the {ordinal 2 40} floor.",
    "The {EVENTS} is on the {ordinal 1 31} of {MONTHS}.",
    "{name}'s birthday is on {MONTHS} {ordinal 1 28}.",
    "The {river|lake|sea|pond|canal} rose {decimal} meters overnight.",
    "The trail to the {PLACES} is {decimal} miles long.",
    "About {percent} of the {plural PROFESSIONS} agreed with the plan.",
    "Prices at the {SHOPS} rose by {percent} last year.",
    "{titled} {past OBJECT_VERBS} the {OBJECTS} at the {PLACES}.",
    "{titled} and {titled} met at the {EVENTS} in {CITIES}.",
    "{name} {SURNAMES} Jr. works as {a PROFESSIONS} in {CITIES}.",
    "We {visited|stayed near|walked around|drove past} {SAINT_PLACES} {PAST_TIMES}.",
    "Dr. {SURNAMES} saw {count 3 40} patients before lunch.",
    "In {year}, the {BUILDINGS} had {big_count} visitors.",
    "The {EVENTS} in {CITIES} drew {big_count} people.",
    "The {PROFESSIONS} at the {BUILDINGS} earns ${count 9 60} an hour.",
    "{name} ran {decimal} miles in {count 12 59} minutes.",
    "The {SHOPS} opens at {clock} on {WEEKDAYS}s.",
    "Only {percent} of the {plural OBJECTS} were {OBJECT_ADJECTIVES}.",
    # Questions.
    "Did {person} {base OBJECT_VERBS} the {OBJECTS} {PAST_TIMES}?",
    "Why did {person} {base MOTIONS} to the {PLACES} so {early|late|often|quickly|slowly}?",
    "How many {plural FOODS} did {name} {base FOOD_VERBS} at the {PLACES}?",
    "Where did you {base OBJECT_VERBS} the {OBJECT_ADJECTIVES} {OBJECTS}?",
    "Have you ever {participle PERSON_VERBS} {a PROFESSIONS} from {CITIES}?",
    "Is the {PLACES} {PLACE_ADJECTIVES} on {WEEKDAYS}s?",
    "What time does the {VEHICLES} to {CITIES} leave?",
    "Could you {base OBJECT_VERBS} the {OBJECTS} for me, please?",
    "Would you like {FOOD_MASS} or {FOOD_MASS}?",
    "Who {past OBJECT_VERBS} the {OBJECT_ADJECTIVES} {OBJECTS} in the {ROOMS}?",
    "When will the {EVENTS} {start|end|begin|finish}?",
    "Does {titled} still live in {CITIES}?",
    "Was the {OBJECTS} really {price}?",
    "Why is the {ANIMALS} so {ANIMAL_ADJECTIVES} {today|this morning|tonight}?",
    "Can {name} {base ACTIONS} at the {EVENTS} {FUTURE_TIMES}?",
    "Did the {EVENTS} really start at {clock}?",
    # Exclamations.
    "What {a OBJECT_ADJECTIVES} {OBJECTS}!",
    "How {PLACE_ADJECTIVES} the {PLACES} looks {today|tonight|this morning}!",
    "Watch out for the {ANIMAL_ADJECTIVES} {ANIMALS}!",
    "That was the {best|worst|longest|strangest|funniest} {EVENTS} ever!",
    "{name}, look at that {ANIMAL_ADJECTIVES} {ANIMALS}!",
    "What {a EVENT_ADJECTIVES} {EVENTS} that was!",
    "I can't believe the {OBJECTS} cost {price}!",
    # Commands.
    "Please {base OBJECT_VERBS} the {OBJECT_ADJECTIVES} {OBJECTS} before {name} arrives.",
    "Don't {base OBJECT_VERBS} the {OBJECTS}, {name}.",
    "{Walk|Run|Drive|Hurry|Cycle|Go|Jog} to the {PLACES} and wait for me there.",
    "Put the {OBJECTS} {on|under|beside|behind} the {SURFACES}, please.",
    "Call {titled} at {clock} {FUTURE_TIMES}.",
    "Take {count 2 12} {plural FOODS} to the {PLACES} for {name}.",
    "Tell {name} that the {EVENTS} starts at {clock}.",
    # Commas, semicolons and two clauses.
    "{name} {past ACTIONS}, but {other} {past ACTIONS}.",
    "The {PLACES} was {PLACE_ADJECTIVES}; the {PLACES} was {PLACE_ADJECTIVES}.",
    "When the {EVENTS} ended, {person} {past MOTIONS} home.",
    "{person} {past OBJECT_VERBS} the {OBJECTS} because it was {OBJECT_ADJECTIVES}.",
    "If it is {WEATHER} {FUTURE_TIMES}, we'll stay inside.",
    "After the {EVENTS}, {name} and {other} {past FOOD_VERBS} {plural FOODS}.",
    "{name} bought {plural FOODS}, {plural FOODS}, and {FOOD_MASS}.",
    "The {PROFESSIONS} {past SAYINGS} that the {EVENTS} would start at {clock}.",
    "Although the {PLACES} was {PLACE_ADJECTIVES}, {person} {past ACTIONS} {MANNER_ADVERBS}.",
    "Neither {name} nor {other} {past OBJECT_VERBS} the {OBJECTS}.",
    "I think the {OBJECTS} is in the {ROOMS}.",
    "You can't {base OBJECT_VERBS} the {OBJECTS}; it's too {OBJECT_ADJECTIVES}.",
    "{name}'s {RELATIVES} is {a PROFESSIONS} in {CITIES}.",
    "The {ANIMALS} {ANIMAL_ACTIONS} {MANNER_ADVERBS}, and the {ANIMALS} {ANIMAL_ACTIONS}.",
    "{name} {past PERSON_VERBS} {other} at the {PLACES}, then {past MOTIONS} home.",
    "{PAST_TIMES}, {titled} {past PERSON_VERBS} the {PROFESSIONS}.",
    "On the {ordinal 1 31} of {MONTHS} {year}, {name} {past JOURNEYS} to {CITIES}.",
    "If the {VEHICLES} is late {FUTURE_TIMES}, we'll {walk|take a taxi|wait inside}.",
    # Bodies, dishes, nature, moods and seasons.
    "My {BODY_PARTS} has hurt since the {EVENTS}.",
    "{name} ordered {a CONTAINERS} of {FOOD_MASS} and {a FOODS}.",
    "The {FOOD_ADJECTIVES} {FOOD_MASS} at the {SHOPS} was {delicious|too salty|sold out|cheap}.",
    "These {plural FOODS} are too {FOOD_ADJECTIVES} for {name}.",
    "{name} {painted|photographed|drew|noticed} {a NATURE} by the {PLACES} in the {SEASONS}.",
    "Why was {person} so {PERSON_ADJECTIVES} at the {EVENTS}?",
    "{person} seemed {PERSON_ADJECTIVES} and {PERSON_ADJECTIVES} {PAST_TIMES}.",
    "In the {SEASONS}, the {PLACES} is {PLACE_ADJECTIVES}.",
)


# Slots that are no pool of sentence_words, each drawing from the generator.
def _ordinal(number: int) -> str:
    """3 -> '3rd', 12 -> '12th', 21 -> '21st'."""
    suffix = "th" if 10 <= number % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(number % 10, "th")
    return f"{number}{suffix}"


def _big_count(rng: random.Random) -> str:
    """'450', '1,500', '45,000', '3,456'. From 1,001 to 2,999 only whole hundreds: the front end read
    the others as years ("1,234 people" -> "twelve thirty-four people") when this was written, and the
    sentences stay as they were."""
    kind = rng.randrange(4)
    if kind == 0:
        return str(rng.randint(100, 999))
    if kind == 1:
        return f"{rng.randint(11, 29) * 100:,}"
    if kind == 2:
        return f"{rng.randint(3, 99) * 1000:,}"
    return f"{rng.randint(3000, 99999):,}"


def _price(rng: random.Random) -> str:
    """'$3.50', '$12', '£20', '£4.75', '$250'."""
    whole = rng.choice((rng.randint(1, 9), rng.randint(10, 99), rng.randint(100, 900)))
    cents = rng.choice(("", "", ".50", ".25", ".75", ".99", f".{rng.randint(1, 99):02d}"))
    return f"{rng.choice(('$', '$', '£'))}{whole}{cents}"


def _decimal(rng: random.Random) -> str:
    """'2.5', '0.75', '12.3'."""
    whole = rng.randint(0, 20)
    fraction = rng.choice((str(rng.randint(1, 9)), f"{rng.randint(1, 99):02d}"))
    return f"{whole}.{fraction}"


def _clock(rng: random.Random) -> str:
    """'7:30', '6:05', '9:00', '10:15 am', '18:45'."""
    minute = rng.choice(("00", "05", "10", "15", "20", "30", "40", "45", "50", f"{rng.randint(1, 59):02d}"))
    if rng.random() < 0.2:
        return f"{rng.randint(13, 23)}:{minute}"
    return f"{rng.randint(1, 12)}:{minute}{rng.choice(('', '', ' am', ' pm'))}"


def _percent(rng: random.Random) -> str:
    """'45%', '12.5%'."""
    if rng.random() < 0.2:
        return f"{rng.randint(1, 99)}.{rng.randint(1, 9)}%"
    return f"{rng.randint(2, 99)}%"


def _titled(rng: random.Random) -> str:
    """'Dr. Patel', 'Mrs. O'Brien'."""
    return f"{rng.choice(words.TITLES)} {rng.choice(words.SURNAMES)}"


def _person(rng: random.Random) -> str:
    """Anyone, singular: 'Emma', 'Capt. Reed', 'the baker' or 'my aunt'."""
    kind = rng.randrange(4)
    if kind == 0:
        return rng.choice(words.NAMES)
    if kind == 1:
        return _titled(rng)
    if kind == 2:
        return f"the {rng.choice(words.PROFESSIONS)}"
    return f"{rng.choice(('my', 'our', 'your'))} {rng.choice(words.RELATIVES)}"


_GENERATORS: dict[str, Callable[..., str]] = {
    "person": _person,
    "titled": _titled,
    "count": lambda rng, low, high: str(rng.randint(low, high)),
    "ordinal": lambda rng, low, high: _ordinal(rng.randint(low, high)),
    "big_count": _big_count,
    "year": lambda rng: str(rng.randint(1066, 2024)),
    "price": _price,
    "decimal": _decimal,
    "clock": _clock,
    "percent": _percent,
    "animal_sound": lambda rng: " ".join(rng.choice(words.ANIMAL_SOUNDS)),
}
# The pools of sentence_words by name: word pools ({OBJECTS}, {plural FOODS}) and verb pools ({past ACTIONS}).
_POOLS = {name: pool for name, pool in vars(words).items()
          if name.isupper() and not name.startswith("_") and isinstance(pool, tuple)}
_WORD_POOLS = {name for name, pool in _POOLS.items() if all(isinstance(entry, str) for entry in pool)}
_VERB_POOLS = {name for name, pool in _POOLS.items() if all(len(entry) == 3 for entry in pool)} - _WORD_POOLS
_VERB_FORMS = ("base", "past", "participle", "third")
_NOUN_FORMS = {"plural": words.plural, "a": words.article}
_SLOT = re.compile(r"\{([^{}]+)\}")


def fill_template(template: str, rng: random.Random) -> str:
    """One sentence from `template`: its slots filled left to right (see BASE_TEMPLATES); a slot that
    names no pool, form or generator raises ValueError."""
    names: list[str] = []

    def fill_slot(match: re.Match[str]) -> str:
        if "|" in match.group(1):
            return rng.choice(match.group(1).split("|"))
        form, *rest = match.group(1).split()
        if form in ("name", "other"):
            # {other} differs from the names before it; {name} may repeat one, as people share names
            choices = [name for name in words.NAMES if name not in names] if form == "other" else words.NAMES
            names.append(rng.choice(choices))
            return names[-1]
        if form in _GENERATORS:
            try:
                return _GENERATORS[form](rng, *map(int, rest))
            except (TypeError, ValueError) as e:  # "{count 2}", "{count two 5}", "{year 5}"
                raise ValueError(f"bad slot {match.group(0)!r} in template {template!r}: {e}") from None
        modifier, pool = (form, rest[0]) if len(rest) == 1 else (None, form) if not rest else (None, "")
        if modifier in _VERB_FORMS and pool in _VERB_POOLS:
            base, past, participle = rng.choice(_POOLS[pool])
            forms = {"base": base, "past": past, "participle": participle, "third": words.third_person(base)}
            return forms[modifier]
        if pool in _WORD_POOLS and (modifier is None or modifier in _NOUN_FORMS):
            entry = rng.choice(_POOLS[pool])
            return _NOUN_FORMS[modifier](entry) if modifier else entry
        raise ValueError(
            f"unknown slot {match.group(0)!r} in template {template!r}; expected a word pool of "
            "sentence_words such as {OBJECTS}, a form of one such as {plural FOODS} or {past ACTIONS}, "
            "alternatives such as {early|late}, or one of " + ", ".join(_GENERATORS)
        )

    return _SLOT.sub(fill_slot, template)


def base_sentences(count: int, seed: int = 1) -> list[str]:
    """`count` different sentences of 4 to 16 words from BASE_TEMPLATES, the same for the same (count,
    seed) on every machine and Python. base_sentences(n, seed) is the start of base_sentences(n + k, seed)."""
    if count < 0:
        raise ValueError(f"count must be 0 or more, got {count}")
    rng = random.Random(seed)
    sentences: list[str] = []
    seen: set[str] = set()
    while len(sentences) < count:
        sentence = fill_template(rng.choice(BASE_TEMPLATES), rng)
        sentence = sentence[0].upper() + sentence[1:]
        if 4 <= len(sentence.split()) <= 16 and sentence not in seen:
            seen.add(sentence)
            sentences.append(sentence)
    return sentences
