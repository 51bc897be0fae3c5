"""How tests/nlu/ood/{dev,heldout}.txt were picked (README.md says from what).

    python tests/nlu/ood/pick_lines.py BNSENTMIX_CSV SOCIAN_POS SOCIAN_NEG [--training]

Each source is cut in two by position: the first 70 % of each file is the pool of the
evaluation lines, the last 30 % the only place training negatives may be taken from
(data/nlu/out_of_scope.yml), so no evaluation line is ever trained on. A line is kept if it
has 3 to 25 words, no run of 6 or more digits (phone numbers), no e-mail or link, no word of
abuse or of communal hatred, and no word of a panchayat service (those are not out of domain).
Lines mentioning a language or Bangladesh are over-sampled: they are the known weakness.
The names of private persons were removed by reading the pool (REMOVED below), before the split.
"""

import csv
import random
import re
import sys
from pathlib import Path

HERE = Path(__file__).parent
SEED = 2025
MAX_WORDS = 25

ABUSE = re.compile(
    r"\b(baal|bal|baler|magi|khanki|fuck\w*|shala|sala|harami|kuttar?|kukur\w*|shuorer|suorer|bitch|"
    r"randi|rendi|malaun|malu|malion|nastik|bc|hagu|hogar?|pakistani|fakistan)\b|chod|choda|"
    r"বাল|মাগি|মাগী|খানকি|চোদ|চুদ|হারামি|হারামী|কুত্তা|শুয়োর|শুয়ার|"
    r"রেন্ডি|মালাউন|মালু|হিজড়া|হিজরা|কাফের|নাস্তিক|নাসতিক|জঙ্গি|জংঙ্গী|মার\b|মারো|মেরে|যুদ্ধ|আগুন|পুড়িয়ে|"
    r"পুরিয়ে|পুরাইয়া|জবাই|খুন|হত্যা|ধর্ষণ|জারজ|জারয|পাকি|ফাকি|কুলাঙ্গার|সালি|শালা|পুটকি|মুত্র|মূত্র|কেটে|বৌদ্ধ|বৌদ্ব|জাত\b|জাতি\b|মুনাফিক",
    re.I,
)
PANCHAYAT = re.compile(
    r"panchayat|ponchayet|ponchayat|certificate|sertificate|sonod|abedon|application|apply|job ?card|"
    r"ration|pension|bhata|complain|obhijog|trade licen[cs]e|guest ?house|salary|payslip|"
    r"পঞ্চায়েত|সার্টিফিকেট|শংসাপত্র|সনদ|আবেদন|রেশন|ভাতা|অভিযোগ|লাইসেন্স|বেতন|জন্ম নিবন্ধন|প্রধান",
    re.I,
)
LANGUAGE = re.compile(r"bangla|bengali|english|inglish|ingreji|bangladesh|বাংলা|ইংরেজি|ইংলিশ|ইংরেজ", re.I)
PRIVATE = re.compile(r"\d{6,}|@|https?:|www\.", re.I)

# Lines of the pool that name private persons or read as a request for a government service.
REMOVED = {
    "Rafsan the coto vai er vedio tumi copy koro apu. Tomr nijer kono creativity nai",
    "হাসিনা রকিবের ইসিপরকিয়ার ফসল হবে নাসিক ভোটচুরি",
    "এই সয়তানের নোবেল কেড়ে নেওয়া হক",
    "অংসান সূচি মুখে প্রস্রাব করি",
    "Hoitese ki er erokom chandu mara lok jon niye ashe ken sedin ek simp re anlo ar ajke ek baittachda re anlo",
    "030 lets get into the video boila mone hoy piser betar chehara uray dise",
    "Enayet vai ektu besi tel marlo ke",
    "Eto sagol er sagol jutano ei maiya re",
    "Farhan sir er oookk word ti onek valo lageebong bolar sate sate onek hasi pay",
    "Aye faisal tomra sob somoi khub khaber khawo keno?",
    "Salman vaiajoto moshola dhukbe toto valo hbe faiza apuoh, taile kalke khai",
    "Ei ep ta best chilo. Rs fahim chowdhuryr jonno",
    "Faiza apoo aapakee hinde bhaasha bahut sundar hai",
    "Plastic afghan boys i am bangladeshi amra re je plastic bolta akhon amra o plastic bolmo afghanistan always plastic boys",
    "Good bangladesh haram khor afghanistan",
    "Sahee haraya afganduz ko",
    "Apnader hindu banay rakhbe lol eshob desheo ghurte jay manush vhai",
    "Ak kotha bar bar jigay boyra kala naki",
    "মেয়ে মানুষ এর বুদ্ধি হাটুর তোলে",
    "তোমাগো এই খবর দিতে হবেনা তোমরা দেখো হাতিটার কি খবর হালারা সাংবাদিক হয়ছে",
    "সয়তান্নির বাচ্চি। তকে হাতের কাছে পাইলে কুপিয়ে কুপিয়ে মারতাম আমি।",
    "লেসবিয়ান শালী এক জোড়া জুতা পাওয়ার যোগ্যতা ও রাখে না",
    "ভাইয়া আপনি যে একটা গরু আপনার প্রোফাইল পিক দেখলে বুঝা যায়। গাধার সাথে তর্ক করা বোকামো ছাড়া আর কিছু না।",
    "শাকিব বেইমান বিয়ে করে বাচ্চা বউয়ের খোজ রাখেনা এই বেইমানএর ছবি দেখলে সেও বেইমান ধিক্কার জানাই মুনাফেক কে",
    "হে আল্লাহ জালিমদের কে হেদায়েত কর।তারা হেদায়েত প্রাপ্ত না হলে তাদের ধ্বংস করে দাও।",
    "তোরা মানুষ ওরা অমানুষ ওদের জীবনের দাম নাই",
    "এই হাঁটু গেঁড়ে বসলাম এখন লোকজনের কমেন্ট পড়বো আর ওর্গাজমের মত মজা নিবো।",
    "জুতা মারতে হবে হুদার গালে",
    "ভারতীয় সৈন্যের মৃত্যুতে আনন্দিত হইলাম।",
    "ভাল হয়েছ এই বেটি মরেনা কে",
    "গাইবান্ধার বীর মুক্তিযোদ্ধা আজাদ কে খুজে পাওয়া যাচ্ছেনা",
    "ৃঅামি বলব বৌদদদেরকে দমক দেবা দরকার দুনিঅাল মানুস জানাদরকার বাংলা দেশে লক্ষ লা বৌদদ শানতিতে অাছে",
    "আত্তরখায় বন্দুক চালাও না হয় বাছতে পারবানা খালি খালি বাংলাদেশে ঝামেলা করনা",
    "Tuito bolcile bangla cinema tor valo lagena tahole tui bangla cinema koris kemne bujete parlan tui akta sepu poribarer sele",
}


def keep(text: str) -> bool:
    words = text.split()
    return (
        3 <= len(words) <= MAX_WORDS
        and not PRIVATE.search(text)
        and not ABUSE.search(text)
        and not PANCHAYAT.search(text)
        and text not in REMOVED
    )


def halves(lines):
    cut = int(len(lines) * 0.7)
    return lines[:cut], lines[cut:]


def draw(lines, n_language, n_other, rng):
    seen, picked_language, picked_other = set(), [], []
    order = list(lines)
    rng.shuffle(order)  # before filtering: a line removed by hand is replaced by the next one
    for line in order:
        key = line.lower()
        if key in seen or not keep(line):
            continue
        seen.add(key)
        if LANGUAGE.search(line) and len(picked_language) < n_language:
            picked_language.append(line)
        elif not LANGUAGE.search(line) and len(picked_other) < n_other:
            picked_other.append(line)
    return picked_language + picked_other


def clean(text: str) -> str:
    return " ".join(text.replace('"', " ").split())


def main(bnsentmix: str, socian_pos: str, socian_neg: str, training: bool = False) -> None:
    rng = random.Random(SEED)
    with open(bnsentmix, encoding="utf-8") as handle:
        banglish = [clean(row["sentence1"]) for row in csv.DictReader(handle)]
    pos = [clean(line) for line in open(socian_pos, encoding="utf-8")]
    neg = [clean(line) for line in open(socian_neg, encoding="utf-8")]
    banglish_eval, banglish_train = halves(banglish)
    bengali_eval = halves(pos)[0] + halves(neg)[0]
    if training:
        # Candidates for data/nlu/out_of_scope.yml, from the other 30 %; read and picked by hand.
        evaluation = {line.lower() for line in banglish_eval + bengali_eval}
        tail = [line for line in banglish_train + halves(pos)[1] + halves(neg)[1] if line.lower() not in evaluation]
        print("\n".join(draw(tail, 60, 80, random.Random(SEED + 1))))
        return
    lines = draw(banglish_eval, 80, 220, rng) + draw(bengali_eval, 30, 90, rng)
    rng.shuffle(lines)
    cut = int(len(lines) * 0.6)
    (HERE / "dev.txt").write_text("\n".join(lines[:cut]) + "\n", encoding="utf-8")
    (HERE / "heldout.txt").write_text("\n".join(lines[cut:]) + "\n", encoding="utf-8")
    print(f"dev {cut}, heldout {len(lines) - cut}")


if __name__ == "__main__":
    main(*sys.argv[1:4], training="--training" in sys.argv)
