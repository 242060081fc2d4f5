"""Deterministic English sentences for the corpora that make_demo_corpus.py speaks: the demo's written
list, and any number more from a small grammar over everyday words, for a second voice or a larger corpus.

    from sentence_bank import generated_sentences
    generated_sentences(400, seed=1)  # the same 400 sentences on every machine

The grammar is written for this project: statements, questions and exclamations of 4 to 14 words over
about 600 common words (people, places, things, actions, qualities), with numbers and times written as
a reader says them, so that the text covers English spelling and sounds broadly and a speech
recognizer's language model finds the sentences plausible.
"""

import random

NAMES = ("Anna Ben Carla David Emma Frank Grace Henry Irene Jack Karen Leo Maria Nick Olivia Peter Rosa "
         "Sam Tina Victor Wendy Yusuf Zoe Alice Bruno Clara Diego Elena Felix Hugo Julia Kevin Laura Martin "
         "Nora Oscar Paula Ruth Simon Thomas Ursula Walter").split()
PLACES = ("the kitchen, the garden, the station, the library, the market, the harbor, the office, the school, "
          "the village, the river, the forest, the beach, the museum, the bakery, the hospital, the airport, "
          "the farm, the bridge, the valley, the hotel, the park, the church, the factory, the island, "
          "the mountain, the city, the square, the theater, the garage, the hallway").split(", ")
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
    "pushed/push pulled/pull packed/pack shared/share ordered/order noticed/notice described/describe").split()]
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
