"""A realistic corpus for permessage-deflate: JSON and chat-like text messages.

    python benchmarks/corpus.py     # prints a summary of the corpus

Deterministic (seeded): 600 messages from 100 bytes to 64 KiB, log-uniform in
size, half JSON API payloads (records with repeated keys, ids, timestamps,
nested lists), half chat text (sentences from a vocabulary with Zipf-like word
frequencies). This is what `make bench` measures compression ratio, speed and
memory on, and what the defaults of `PerMessageDeflate` were chosen by.
"""

from __future__ import annotations

import json
import math
import random

_VOCABULARY = (
    "the of and to a in is it you that he was for on are with as I his they be at one "
    "have this from or had by hot word but what some we can out other were all there when "
    "up use your how said an each she which do their time if will way about many then "
    "them write would like so these her long make thing see him two has look more day "
    "could go come did number sound no most people my over know water than call first who "
    "may down side been now find any new work part take get place made live where after "
    "back little only round man year came show every good me give our under server client "
    "message socket frame close code reconnect latency deploy build cache queue retry "
    "token session request response timeout websocket compress window "
)
WORDS = _VOCABULARY.split()

KEYS = ["id", "type", "user", "name", "email", "created_at", "updated_at", "status", "tags",
        "score", "items", "price", "quantity", "currency", "text", "channel", "reply_to",
        "reactions", "metadata", "version", "region", "latency_ms", "ok"]


def _word(rng: random.Random) -> str:
    # Zipf-like: low ranks far more often.
    rank = min(len(WORDS) - 1, int(rng.paretovariate(1.1)) - 1)
    return WORDS[rank]


def _sentence(rng: random.Random) -> str:
    words = [_word(rng) for _ in range(rng.randint(4, 18))]
    return " ".join(words).capitalize() + rng.choice(".!?")


def chat_text(rng: random.Random, size: int) -> str:
    """Chat-like text of about ``size`` bytes."""
    parts: list[str] = []
    total = 0
    while total < size:
        line = f"[{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}] " \
               f"{rng.choice(['alice', 'bob', 'carol', 'dave', 'erin'])}: " + " ".join(
                   _sentence(rng) for _ in range(rng.randint(1, 3)))
        parts.append(line)
        total += len(line) + 1
    return "\n".join(parts)[:size]


def json_text(rng: random.Random, size: int) -> str:
    """A JSON document of about ``size`` bytes (a list of records)."""
    records = []
    total = 2
    while total < size:
        record: dict[str, object] = {"id": rng.randint(1, 10**9),
                                     "type": rng.choice(["order", "message", "event"])}
        for key in rng.sample(KEYS, rng.randint(3, 8)):
            choice = rng.random()
            if choice < 0.3:
                record[key] = rng.randint(0, 10**6)
            elif choice < 0.5:
                record[key] = round(rng.uniform(0, 1000), 2)
            elif choice < 0.8:
                record[key] = " ".join(_word(rng) for _ in range(rng.randint(1, 6)))
            else:
                record[key] = [rng.choice(WORDS) for _ in range(rng.randint(1, 4))]
        text = json.dumps(record)
        records.append(record)
        total += len(text) + 2
    return json.dumps(records, separators=(",", ":"))[:size]


def corpus(count: int = 600, seed: int = 7692) -> list[bytes]:
    """The messages: sizes log-uniform from 100 B to 64 KiB, JSON and chat alternating."""
    rng = random.Random(seed)
    messages = []
    for i in range(count):
        size = int(math.exp(rng.uniform(math.log(100), math.log(65536))))
        text = json_text(rng, size) if i % 2 == 0 else chat_text(rng, size)
        messages.append(text.encode())
    return messages


if __name__ == "__main__":
    messages = corpus()
    sizes = sorted(map(len, messages))
    print(f"{len(messages)} messages, {sum(sizes):,} bytes, median {sizes[len(sizes) // 2]:,} B, "
          f"min {sizes[0]:,} B, max {sizes[-1]:,} B")
