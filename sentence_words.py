"""The word pools of sentence_bank.base_sentences: some 2,300 common English words written for this project.

Grouped by what a word can sensibly go with (a thing is painted, a food is eaten, a person is met), so
that sentences drawn from the pools read as everyday English to a speech recognizer's language model.
Verbs are written "base/past" or "base/past/participle" where the participle differs; nouns are
singular, and `plural` makes the plural. The order of every pool is part of the corpus: the sentences
are drawn by index, so reordering or editing a pool changes every base corpus made afterwards.
"""


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


def _phrases(text: str) -> tuple[str, ...]:
    return tuple(phrase.strip() for phrase in text.split(","))


def _verbs(text: str) -> tuple[tuple[str, str, str], ...]:
    """ "take/took/taken find/found" -> (("take", "took", "taken"), ("find", "found", "found"))."""
    forms = []
    for entry in text.split():
        base, past, *participle = entry.split("/")
        forms.append((base, past, participle[0] if participle else past))
    return tuple(forms)


# --- People --------------------------------------------------------------------------------------------

# First names from many backgrounds. None is an abbreviation or a month ("Jan", "Mar" would be read
# "January", "March" before a number), and none is a ruler's name of text.roman.REGNAL_NAMES ("Leo",
# "Victor"), which a following "I" would turn into a numbered ruler.
NAMES = _words(
    "Aaron Abigail Adam Adrian Aisha Albert Alan Alice Amelia Amir Andrew Angela Anna Arthur Audrey "
    "Beatrice Bella Ben Benjamin Bernard Beth Brian Bruno Caleb Carla Carmen Caroline Charlotte Chloe "
    "Christopher Claire Clara Colin Daniel Daisy Dennis Derek Diana Diego Dorothy Edgar Edith Eleanor "
    "Elena Eli Eliza Emma Ethan Eva Fatima Felix Fiona Florence Frank Gemma Gordon Grace Hannah Harriet "
    "Harvey Hazel Helen Hugo Irene Isaac Isabel Ivy Jack Jacob Jasmine Jason Jenny Joanna Jonah Joseph "
    "Joyce Julia Karen Kate Keith Kevin Kofi Laura Lena Leon Lewis Lily Lucas Lucy Luis Mabel Malik "
    "Marcus Margaret Maria Martin Maya Megan Mia Miguel Molly Monica Nadia Naomi Nathan Neil Nick Nina "
    "Noah Nora Olivia Omar Oscar Owen Patrick Paula Priya Quentin Rachel Raj Rebecca Rita Ronald Rosa "
    "Rupert Ruth Sam Sarah Simon Sophie Stella Stuart Susan Theo Thomas Tina Tobias Tom Ursula Vera "
    "Vincent Walter Wanda Wendy Xavier Yasmin Yusuf Yvonne Zachary Zara Zoe"
)
SURNAMES = _words(
    "Abbott Adams Ahmed Baker Barnes Bell Bennett Bishop Brooks Burke Campbell Carter Chen Clark Cole "
    "Collins Cooper Cruz Davies Dixon Doyle Duncan Edwards Ellis Evans Fisher Fleming Flores Foster "
    "Fraser Garcia Gibson Graham Grant Hall Hamilton Hardy Harper Harris Hayes Hill Holmes Hughes Hunt "
    "Jackson Jenkins Johnson Jones Kaur Kelly Kennedy Khan Knight Lambert Lane Lawson Lopez Marsh Mason "
    "Meyer Miller Mitchell Moore Morgan Morris Murphy Nash Nelson Nguyen Novak O'Brien Okafor Owens "
    "Palmer Parker Patel Pearson Perry Phillips Porter Powell Price Quinn Reed Reyes Richards Rivera "
    "Robinson Rogers Ross Russell Santos Shaw Silva Singh Sullivan Taylor Thompson Torres Turner Walker "
    "Wallace Ward Watson Webb Wells Wheeler Wilson Wood Wright Young Zhang"
)
# Titles written as abbreviations; the text front end reads them ("Dr." -> "doctor"), so the corpus
# trains that reading. "St." stays for saints' places (SAINT_PLACES), as the reference reads it.
TITLES = _words("Mr. Mrs. Ms. Dr. Prof. Capt. Lt. Sgt.")
SAINT_PLACES = _phrases(
    "St. Albans, St. Ives, St. Louis, St. Paul, St. Andrews, St. Helens, St. Petersburg, "
    "St. Mary's church, St. George's hall, St. John's college, St. Luke's hospital, St. David's"
)

PROFESSIONS = _words(
    "teacher nurse doctor farmer baker butcher plumber electrician carpenter mechanic pilot driver chef "
    "cook waiter gardener painter writer author poet singer dancer actor musician drummer guitarist "
    "pianist violinist artist sculptor photographer journalist reporter editor librarian lawyer judge "
    "banker accountant architect engineer scientist chemist biologist astronaut dentist surgeon "
    "pharmacist vet firefighter soldier sailor fisherman tailor barber hairdresser cashier clerk "
    "secretary manager receptionist student professor tutor coach referee athlete runner swimmer "
    "cyclist climber guide tourist ranger lifeguard janitor cleaner porter postman courier builder "
    "welder miner shepherd beekeeper florist grocer jeweler locksmith blacksmith potter weaver designer "
    "programmer mayor governor detective inspector sheriff ambassador translator nanny volunteer "
    "plasterer bookseller shopkeeper salesman inventor historian economist"
)
RELATIVES = _words(
    "mother father sister brother aunt uncle cousin niece nephew grandmother grandfather grandson "
    "granddaughter daughter son wife husband friend neighbor roommate classmate colleague boss partner "
    "godmother stepbrother landlord landlady"
)

# --- Things ----------------------------------------------------------------------------------------------

# Things a person can pick up, carry, lose or mend.
OBJECTS = _words(
    "book letter key lamp coat hat bottle glass cup plate bowl spoon fork knife basket ticket map phone "
    "camera clock picture blanket candle box bag wallet umbrella hammer rope bucket kettle guitar violin "
    "drum ball kite newspaper envelope pencil notebook mirror pillow shirt shoe glove scarf ring watch "
    "necklace bracelet belt jacket sweater helmet backpack suitcase purse towel sponge brush comb "
    "toothbrush razor broom mop shovel rake saw drill wrench screwdriver ruler stapler calculator laptop "
    "keyboard tablet radio speaker charger cable battery flashlight lantern compass tent magazine diary "
    "calendar postcard stamp parcel package gift toy puzzle doll marble crayon paintbrush canvas "
    "sketchbook journal folder binder clipboard briefcase jar tin lid tray jug pitcher teapot mug saucer "
    "napkin tablecloth vase pot pan skillet toaster blender whisk ladle spatula grater sieve colander "
    "cushion quilt rug mat curtain stool chair table desk sofa couch shelf cupboard drawer cabinet "
    "bookcase coin medal trophy badge button needle thimble ribbon string wire chain padlock whistle "
    "bell flag banner sign poster balloon lighter torch axe chisel hose wheelbarrow racket bat "
    "skateboard sled surfboard flute trumpet harp cello accordion banjo harmonica receipt passport "
    "certificate brochure leaflet manual recipe coupon voucher fridge stove microwave heater fan "
    "printer television computer monitor skirt dress blouse vest sock boot sandal slipper tie cap apron "
    "uniform raincoat cardigan bicycle ladder piano bench wagon cart barrel crate sack bundle"
)
# Furniture and surfaces that things are put on or under.
SURFACES = _words("table desk shelf bench counter chair sofa bed windowsill cupboard dresser stool piano")
# Rooms, said "in the kitchen".
ROOMS = _words(
    "kitchen garden hallway attic basement cellar bathroom bedroom balcony porch garage study pantry "
    "greenhouse shed classroom office studio workshop laundry nursery lobby corridor library"
)
# Places in a town or the country, said "at the station", "to the harbor".
PLACES = _phrases(
    "station, library, market, harbor, office, school, village, river, forest, beach, museum, bakery, "
    "hospital, airport, farm, bridge, valley, hotel, park, church, factory, island, mountain, city, "
    "square, theater, playground, stadium, gym, swimming pool, cinema, bank, post office, pharmacy, "
    "supermarket, bookshop, cafe, restaurant, cafeteria, laboratory, warehouse, barn, stable, orchard, "
    "vineyard, meadow, field, pond, lake, shore, coast, cliff, cave, desert, canyon, glacier, "
    "waterfall, pier, dock, marina, lighthouse, castle, palace, cathedral, chapel, temple, tower, "
    "fountain, zoo, aquarium, circus, fairground, embassy, courthouse, police station, fire station, "
    "town hall, bus stop, car park, campsite, cottage, cabin, ferry terminal, train station, "
    "garden center, petrol station, bus station, concert hall, art gallery, health center, "
    "youth club, sports center, ice rink, golf course, tennis court, bowling alley, butcher's shop, "
    "flower shop, toy shop, hardware store, corner shop, farmers' market, town square, village green"
)
# Places that were built, for "The lighthouse was built in 1905."
BUILDINGS = _phrases(
    "station, library, museum, bakery, hospital, airport, bridge, hotel, church, factory, theater, "
    "stadium, cinema, bank, post office, school, warehouse, barn, lighthouse, castle, palace, "
    "cathedral, chapel, temple, tower, fountain, courthouse, town hall, concert hall, cottage, cabin, "
    "mill, pier, canal, railway, market hall, swimming pool, observatory, windmill, farmhouse"
)
# Places that shops sell things in, for the price sentences.
SHOPS = _phrases(
    "market, bakery, supermarket, corner shop, farmers' market, cafe, bookshop, hardware store, "
    "toy shop, flower shop, pharmacy, butcher's shop, station kiosk, garden center, fish market"
)
CITIES = _phrases(
    "London, Paris, Berlin, Madrid, Rome, Lisbon, Dublin, Edinburgh, Glasgow, Cardiff, Belfast, "
    "Manchester, Liverpool, Bristol, Leeds, Oxford, Cambridge, York, Brighton, Boston, Chicago, "
    "Denver, Seattle, Portland, Houston, Dallas, Austin, Phoenix, Atlanta, Miami, Orlando, Nashville, "
    "Memphis, Detroit, Cleveland, Pittsburgh, Philadelphia, Baltimore, Toronto, Vancouver, Montreal, "
    "Ottawa, Quebec, Sydney, Melbourne, Perth, Brisbane, Auckland, Wellington, Tokyo, Osaka, Kyoto, "
    "Seoul, Beijing, Shanghai, Delhi, Mumbai, Cairo, Nairobi, Lagos, Accra, Cape Town, "
    "Johannesburg, Mexico City, Lima, Bogota, Santiago, Havana, Oslo, Stockholm, Helsinki, "
    "Copenhagen, Amsterdam, Brussels, Vienna, Prague, Warsaw, Budapest, Athens, Istanbul, Zurich, "
    "Geneva, Venice, Florence, Naples, Milan, Barcelona, Seville, Munich, Hamburg, Dubai, Singapore, "
    "Bangkok, Hanoi, Manila, Jakarta, Canada, Mexico, Brazil, Argentina, Chile, Peru, Spain, "
    "Portugal, France, Germany, Italy, Greece, Norway, Sweden, Finland, Denmark, Iceland, Ireland, "
    "Scotland, Wales, England, Poland, Austria, Switzerland, Hungary, Egypt, Morocco, Kenya, Ghana, "
    "Nigeria, Japan, China, Korea, India, Nepal, Vietnam, Thailand, Australia, Texas, Ohio, Oregon, "
    "Maine, Vermont, Montana, Alaska, Florida, Kansas, Nebraska, Utah, Arizona, Nevada, Idaho, Iowa, "
    "Virginia, Kentucky, Cornwall, Yorkshire, Devon, Kent"
)
VEHICLES = _words(
    "bus train ferry taxi tram coach plane boat ship helicopter shuttle subway"
)
# Things in nature, which can be seen, drawn or photographed.
NATURE = _words(
    "tree flower rose tulip daisy sunflower oak pine maple willow birch bush hedge rock stone pebble "
    "shell wave cloud star branch root seed acorn thorn petal vine mushroom feather nest log stump "
    "puddle rainbow sunset meadow stream hill"
)
BODY_PARTS = _words(
    "head hand arm leg foot knee elbow shoulder back neck wrist ankle finger thumb toe ear eye nose "
    "tooth tongue lip chin cheek throat stomach hip heel chest"
)
EVENTS = _words(
    "meeting concert party lesson game match wedding festival exam interview trip holiday picnic "
    "parade lecture rehearsal performance show play film race marathon tournament auction sale fair "
    "ceremony dinner lunch breakfast barbecue conference seminar class course debate election "
    "appointment reunion graduation celebration contest quiz competition exhibition premiere tour "
    "voyage journey flight cruise hike session practice speech sermon carnival"
)
CONTESTS = _words("race marathon contest quiz competition tournament match election spelling")

# --- Food ------------------------------------------------------------------------------------------------

# Counted foods ("three apples").
FOODS = _words(
    "apple pear orange grape lemon lime banana peach plum cherry apricot melon mango pineapple coconut "
    "strawberry raspberry blueberry tomato potato carrot onion cucumber pepper cabbage pumpkin radish "
    "turnip avocado egg cookie pie muffin biscuit sandwich pancake waffle bagel croissant doughnut "
    "cupcake pretzel sausage burger taco pizza dumpling omelet pickle olive walnut almond peanut "
    "chestnut cracker scone tart cake loaf bun roll meatball"
)
# Uncounted foods and drinks ("some rice", "a bowl of soup").
FOOD_MASS = _words(
    "bread rice soup cheese butter honey jam milk coffee tea juice water sugar salt flour pasta cereal "
    "yogurt cream chocolate toast bacon ham chicken beef lamb pork salmon tuna porridge oatmeal "
    "lemonade cocoa broth stew curry salad spinach broccoli garlic ginger cinnamon vanilla mustard "
    "ketchup mayonnaise vinegar oil popcorn granola custard gravy sauce syrup celery corn cauliflower "
    "asparagus lettuce tofu marmalade fudge pudding risotto lasagna"
)
# What a drink or a dish is served in.
CONTAINERS = _words("bowl cup glass jar plate mug pot bottle jug basket tin box slice spoonful")

# --- Animals ---------------------------------------------------------------------------------------------

ANIMALS = _words(
    "dog cat horse cow sheep goat pig rabbit fox wolf bear deer mouse rat owl duck goose swan eagle "
    "hawk crow robin sparrow pigeon parrot penguin frog toad snake lizard turtle tortoise fish whale "
    "dolphin shark seal otter beaver badger hedgehog squirrel chipmunk raccoon skunk moose bison camel "
    "llama donkey mule pony zebra giraffe elephant lion tiger leopard cheetah panther jaguar monkey "
    "gorilla kangaroo koala panda hippo crocodile alligator bee wasp ant spider butterfly moth beetle "
    "ladybird snail worm crab lobster octopus hamster gerbil ferret puppy kitten lamb calf foal chick "
    "hen rooster turkey peacock flamingo pelican heron stork seagull woodpecker mole vulture"
)
# Animals people keep at home: "They live in Leeds with their 3 cats."
PETS = _phrases(
    "dog, cat, rabbit, hamster, gerbil, goldfish, parrot, tortoise, guinea pig, budgie, ferret, pony, hen"
)
# (animal, what its sound is called in the past tense): "The old owl hooted all night."
ANIMAL_SOUNDS = tuple(tuple(pair.split("/")) for pair in _words(
    "dog/barked cat/purred cat/meowed owl/hooted cow/mooed sheep/bleated horse/neighed duck/quacked "
    "lion/roared wolf/howled bee/buzzed snake/hissed frog/croaked rooster/crowed pig/grunted "
    "mouse/squeaked donkey/brayed goose/honked crow/cawed pigeon/cooed robin/sang puppy/whimpered "
    "kitten/mewed hen/clucked turkey/gobbled elephant/trumpeted monkey/chattered parrot/squawked "
    "seagull/screeched bear/growled"
))

# --- Qualities -------------------------------------------------------------------------------------------

OBJECT_ADJECTIVES = _words(
    "old new small large heavy light bright dark clean dirty empty full soft hard smooth rough sharp "
    "round narrow wide tall short thin thick long tiny huge shiny dusty rusty broken cracked bent torn "
    "wet dry warm cold cheap expensive fancy plain simple ordinary strange useful useless valuable "
    "precious favorite spare extra antique modern ancient fragile sturdy delicate solid hollow flat "
    "curved striped spotted polished wrinkled folded faded stained sticky slippery greasy shabby neat "
    "messy odd curious lovely pretty ugly elegant handsome colorful enormous little gigantic compact "
    "portable waterproof electric wooden metal plastic leather woolen cotton silk velvet paper brass "
    "copper silver golden iron steel marble red blue green yellow orange purple pink brown black white "
    "gray beige maroon navy turquoise scarlet crimson lavender ivory emerald lopsided squeaky "
    "chipped scratched borrowed missing"
)
PERSON_ADJECTIVES = _words(
    "kind tired clever nervous cheerful patient friendly angry happy hungry brave gentle proud lucky "
    "busy calm quiet shy polite rude honest clumsy curious generous grumpy jealous lazy lonely modest "
    "serious silly sleepy smart strict strong sensible stubborn thoughtful worried young elderly famous "
    "wise careful careless cautious confident anxious excited bored puzzled surprised delighted "
    "grateful helpful hopeful humble impatient jolly lively loyal pleasant relaxed reliable restless "
    "sincere talented thirsty upset weary eager energetic fearless forgetful charming bossy skilled "
    "annoyed embarrassed amazed thrilled cheeky sad glad sorry ready late early"
)
FOOD_ADJECTIVES = _words(
    "fresh ripe spicy salty sweet sour bitter crunchy crispy creamy juicy delicious tasty bland stale "
    "warm hot cold frozen homemade burnt soggy chewy tender smoky rich greasy healthy organic local "
    "plain toasted roasted baked grilled fried boiled mashed sliced chopped dried leftover tangy zesty "
    "fluffy buttery cheesy fruity nutty rotten"
)
PLACE_ADJECTIVES = _words(
    "busy crowded quiet peaceful empty noisy sunny shady cozy chilly drafty damp dusty gloomy bright "
    "spacious cramped tidy messy clean lovely beautiful charming famous historic ancient modern remote "
    "hidden popular expensive cheap friendly local small large huge tiny old new grand elegant rustic "
    "crumbling deserted flooded freezing windy foggy muddy snowy rainy stormy dreary lively "
    "magnificent picturesque scenic tranquil vast"
)
EVENT_ADJECTIVES = _words(
    "long short boring exciting successful disappointing memorable lively noisy quiet formal informal "
    "private public annual weekly monthly important urgent early late brief tiring relaxing pleasant "
    "awful wonderful splendid strange dull crowded dramatic emotional cheerful"
)
ANIMAL_ADJECTIVES = _words(
    "hungry sleepy wild tiny fluffy shy curious old young playful lazy noisy friendly fierce tame clever "
    "gentle timid spotted striped gray brown black white golden huge small little skinny lost injured "
    "stubborn happy restless patient graceful cheeky clumsy muddy soaked nervous"
)
WEATHER = _words(
    "sunny cloudy rainy windy foggy snowy stormy chilly freezing humid mild warm hot cold frosty misty "
    "damp breezy dry wet gray bright clear"
)
MANNER_ADVERBS = _words(
    "slowly quickly quietly carefully suddenly happily gently loudly calmly politely patiently proudly "
    "nervously eagerly anxiously cheerfully angrily sadly brightly boldly bravely briskly casually "
    "clumsily confidently curiously firmly fondly gladly gracefully hastily honestly kindly lazily "
    "loosely merrily neatly openly playfully promptly rapidly readily roughly rudely safely secretly "
    "seriously sharply shyly silently smoothly softly steadily sternly swiftly tenderly thoughtfully "
    "tightly warmly wearily wildly wisely cautiously early late together again"
)
FREQUENCY_ADVERBS = _words("always usually often sometimes rarely seldom never occasionally")

# --- Verbs -----------------------------------------------------------------------------------------------

# Done to a portable thing: "Anna polished the kettle."
OBJECT_VERBS = _verbs(
    "find/found buy/bought sell/sold carry/carried drop/dropped lift/lifted paint/painted clean/cleaned "
    "open/opened close/closed fix/fixed move/moved hide/hid/hidden lose/lost borrow/borrowed "
    "return/returned wrap/wrapped wash/washed check/checked bring/brought take/took/taken keep/kept "
    "hold/held push/pushed pull/pulled pack/packed share/shared order/ordered notice/noticed "
    "describe/described repair/repaired polish/polished fold/folded lend/lent send/sent "
    "steal/stole/stolen break/broke/broken choose/chose/chosen throw/threw/thrown weigh/weighed "
    "measure/measured replace/replaced deliver/delivered collect/collected examine/examined "
    "inspect/inspected label/labeled unpack/unpacked store/stored catch/caught mend/mended "
    "shake/shook/shaken draw/drew/drawn sketch/sketched photograph/photographed admire/admired "
    "touch/touched grab/grabbed forget/forgot/forgotten leave/left scrub/scrubbed dust/dusted "
    "rinse/rinsed dry/dried swap/swapped trade/traded rent/rented fetch/fetched squeeze/squeezed "
    "lock/locked unlock/unlocked stack/stacked test/tested use/used need/needed want/wanted "
    "spot/spotted donate/donated mail/mailed win/won give/gave/given get/got/gotten "
    "hand/handed pick/picked wipe/wiped decorate/decorated design/designed build/built "
    "sharpen/sharpened adjust/adjusted"
)
# Done to food: "Omar sliced the peaches."
FOOD_VERBS = _verbs(
    "eat/ate/eaten cook/cooked bake/baked serve/served taste/tasted slice/sliced peel/peeled "
    "chop/chopped boil/boiled fry/fried roast/roasted grill/grilled share/shared buy/bought "
    "order/ordered pick/picked wash/washed freeze/froze/frozen warm/warmed cut/cut mash/mashed "
    "finish/finished enjoy/enjoyed love/loved hate/hated prefer/preferred grow/grew/grown "
    "smell/smelled split/split weigh/weighed steal/stole/stolen heat/heated pack/packed sell/sold "
    "deliver/delivered carry/carried"
)
# Done to a person: "Dr. Patel thanked Emma."
PERSON_VERBS = _verbs(
    "meet/met call/called visit/visited help/helped thank/thanked invite/invited phone/phoned "
    "greet/greeted follow/followed join/joined teach/taught warn/warned remind/reminded trust/trusted "
    "hug/hugged miss/missed interview/interviewed recognize/recognized ask/asked answer/answered "
    "hire/hired pay/paid email/emailed forgive/forgave/forgiven chase/chased "
    "congratulate/congratulated encourage/encouraged surprise/surprised comfort/comforted "
    "wake/woke/woken interrupt/interrupted ignore/ignored believe/believed blame/blamed praise/praised "
    "rescue/rescued guide/guided tease/teased drive/drove/driven"
)
# Done without an object: "Zara laughed."
ACTIONS = _verbs(
    "laugh/laughed smile/smiled cough/coughed sneeze/sneezed whisper/whispered shout/shouted "
    "sing/sang/sung dance/danced wait/waited sleep/slept rest/rested relax/relaxed cry/cried "
    "yawn/yawned nod/nodded frown/frowned sigh/sighed shiver/shivered listen/listened work/worked "
    "study/studied play/played swim/swam/swum jump/jumped climb/climbed read/read write/wrote/written "
    "knit/knitted hum/hummed whistle/whistled stretch/stretched kneel/knelt pray/prayed vote/voted "
    "complain/complained argue/argued apologize/apologized agree/agreed hesitate/hesitated "
    "blush/blushed grin/grinned stumble/stumbled tremble/trembled wink/winked wave/waved clap/clapped "
    "cheer/cheered fall/fell/fallen speak/spoke/spoken think/thought paint/painted cook/cooked "
    "practice/practiced"
)
# Ways of going somewhere: "Noah cycled to the station."
MOTIONS = _verbs(
    "walk/walked run/ran/run drive/drove/driven hurry/hurried wander/wandered ride/rode/ridden "
    "cycle/cycled travel/traveled return/returned go/went/gone come/came/come fly/flew/flown "
    "sail/sailed rush/rushed stroll/strolled march/marched jog/jogged hike/hiked head/headed "
    "race/raced crawl/crawled drift/drifted limp/limped skip/skipped sprint/sprinted tiptoe/tiptoed "
    "commute/commuted move/moved"
)
# Long journeys, to a city or a country: "Kofi flew to Lisbon."
JOURNEYS = _verbs(
    "drive/drove/driven fly/flew/flown sail/sailed travel/traveled move/moved return/returned "
    "go/went/gone cycle/cycled hike/hiked hitchhike/hitchhiked commute/commuted"
)
# Followed by "that" and a clause: "Ruth said that the bus was late."
SAYINGS = _verbs(
    "say/said think/thought hope/hoped believe/believed know/knew/known feel/felt guess/guessed "
    "suspect/suspected promise/promised admit/admitted explain/explained mention/mentioned "
    "insist/insisted announce/announced complain/complained realize/realized remember/remembered "
    "doubt/doubted worry/worried expect/expected imagine/imagined discover/discovered learn/learned "
    "hear/heard read/read notice/noticed reply/replied warn/warned suggest/suggested decide/decided "
    "agree/agreed write/wrote/written"
)
# Done by an animal: "The shy rabbit vanished."
ANIMAL_ACTIONS = _words(
    "slept waited hid rested wandered jumped played appeared vanished stopped sat stood dug swam "
    "growled hissed sniffed yawned splashed hunted stared watched ran escaped returned shivered "
    "scratched stretched trotted paddled"
)

# --- Times -----------------------------------------------------------------------------------------------

WEEKDAYS = _words("Monday Tuesday Wednesday Thursday Friday Saturday Sunday")
MONTHS = _words("January February March April May June July August September October November December")
SEASONS = _words("spring summer autumn winter")
# With a past tense: "Yesterday, Lena walked to the harbor."
PAST_TIMES = _phrases(
    "yesterday, last night, this morning, this afternoon, earlier today, last week, last month, "
    "last year, last summer, last winter, the other day, a while ago, over the weekend, during the "
    "storm, after lunch, before dinner, at midnight, at dawn, at noon, at sunset, two days ago, "
    "a week ago, on Monday, on Tuesday, on Wednesday, on Thursday, on Friday, on Saturday, "
    "on Sunday, in the spring, in the summer, in the autumn, in the winter, in January, in March, "
    "in July, in October, on Christmas Eve, on New Year's Day, after school, after work"
)
# With a future: "The ferry will leave tomorrow."
FUTURE_TIMES = _phrases(
    "tomorrow, tonight, next week, next month, next year, next summer, this weekend, later today, "
    "on Monday, on Friday evening, on Saturday morning, after lunch, in an hour, in the morning, "
    "in a few minutes, before long, next spring, in August"
)
# With a habit: "Our neighbor usually bakes muffins on Sundays."
HABIT_TIMES = _phrases(
    "every morning, every evening, every night, every day, on Sundays, on Mondays, on Fridays, "
    "on weekends, in the summer, in the winter, after school, before work, twice a week, "
    "once a month, most days, at lunchtime, on rainy days, on holidays"
)

# --- Plurals and verb forms ------------------------------------------------------------------------------

IRREGULAR_PLURALS = {
    "mouse": "mice", "goose": "geese", "sheep": "sheep", "deer": "deer", "fish": "fish",
    "goldfish": "goldfish",
    "moose": "moose", "bison": "bison", "salmon": "salmon", "wolf": "wolves", "calf": "calves",
    "knife": "knives", "loaf": "loaves", "shelf": "shelves", "leaf": "leaves", "scarf": "scarves",
    "fisherman": "fishermen", "postman": "postmen", "salesman": "salesmen", "child": "children",
    "foot": "feet", "tooth": "teeth", "potato": "potatoes", "tomato": "tomatoes", "hero": "heroes",
    "echo": "echoes", "volcano": "volcanoes", "mosquito": "mosquitoes", "octopus": "octopuses",
    "cactus": "cactuses", "bus": "buses", "series": "series", "person": "people",
    "woman": "women", "man": "men", "piano": "pianos", "radio": "radios", "hippo": "hippos",
    "kangaroo": "kangaroos", "photo": "photos", "taco": "tacos", "banjo": "banjos", "cello": "cellos",
    "avocado": "avocados", "mango": "mangoes", "studio": "studios",
}  # fmt: skip


def plural(noun: str) -> str:
    """'box' -> 'boxes', 'cherry' -> 'cherries', 'mouse' -> 'mice'."""
    if noun in IRREGULAR_PLURALS:
        return IRREGULAR_PLURALS[noun]
    if noun.endswith(("s", "x", "z", "ch", "sh")):
        return noun + "es"
    if noun.endswith("y") and noun[-2] not in "aeiou":
        return noun[:-1] + "ies"
    return noun + "s"


def third_person(base: str) -> str:
    """'watch' -> 'watches', 'carry' -> 'carries', 'go' -> 'goes', 'have' -> 'has'."""
    if base == "have":
        return "has"
    if base.endswith(("s", "x", "z", "ch", "sh", "o")):
        return base + "es"
    if base.endswith("y") and base[-2] not in "aeiou":
        return base[:-1] + "ies"
    return base + "s"


# "a" or "an" goes by the sound: "an hour", "a uniform", "a European city".
_AN_THOUGH_CONSONANT = ("hour", "honest", "honor", "heir")
_A_THOUGH_VOWEL = ("uni", "use", "usu", "eu", "one", "once", "ure")


def article(word: str) -> str:
    """'apple' -> 'an apple', 'hour' -> 'an hour', 'uniform' -> 'a uniform'."""
    lower = word.lower()
    vowel_sound = lower[0] in "aeiou" and not lower.startswith(_A_THOUGH_VOWEL)
    return f"an {word}" if vowel_sound or lower.startswith(_AN_THOUGH_CONSONANT) else f"a {word}"


def vocabulary() -> set[str]:
    """Every distinct lowercase word written in the pools above (the plurals and "-s" forms that the
    sentences also make from them not counted): how broad the pools are."""
    words: set[str] = set()
    pools = [value for name, value in globals().items()
             if name.isupper() and not name.startswith("_") and isinstance(value, tuple)]
    for pool in pools:
        for entry in pool:
            for item in entry if isinstance(entry, tuple) else (entry,):
                words.update(item.lower().replace(".", "").split())
    return words
