#!/usr/bin/env python3
"""Reference encoder for the golden test of core/tokenizer's Hugging Face
loader: Hugging Face's byte-level BPE written out plainly in Python, sharing
no code with the Go implementation.

It reads a tokenizer.json (normalizer NFC or none; pre_tokenizer Sequence of
Split regexes with behavior Isolated ending in ByteLevel, or ByteLevel alone
with GPT-2's regex), encodes the cases below and writes, for each, the text,
the pre-tokenised pieces and the ids to a golden JSON file.

BPE here is the textbook loop over a word's symbols: find the adjacent pair
with the lowest merge rank (the leftmost on a tie), merge that one pair,
repeat until no adjacent pair is a merge; ids come from looking the final
symbols up in the vocabulary. Added tokens are never matched in the text
(core/tokenizer's contract: special tokens go in by id).

Needs Python 3 and the `regex` module (Debian: python3-regex), which knows
\\p{L} and lookahead the way Oniguruma (Hugging Face's engine) does.

  python3 core/tokenizer/testdata/reference_bpe.py \\
      core/tokenizer/testdata/qwen core/tokenizer/testdata/golden_qwen.json

`go test ./core/tokenizer -run Golden -update` runs this.
"""

import json
import os
import sys
import unicodedata

import regex

GPT2_PATTERN = r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"""

CASES = [
    ("empty", ""),
    ("english", "The quick brown fox jumps over the lazy dog."),
    ("contractions", "I'm sure they'll say it's fine; WE'VE SEEN IT'S DONE, you'd agree."),
    ("go code", 'func main() {\n\tfor i := 0; i < 10; i++ {\n\t\tfmt.Println("hello", i)\n\t}\n}\n'),
    ("python code", 'def add(self, word):\n    self.counts[word] = self.counts.get(word, 0) + 1\n    return self.counts[word]\n'),
    ("json", '{"name": "search", "arguments": {"query": "hello world", "limit": 10}}'),
    ("digits", "12345"),
    ("numbers", "Version 1.2.3, released 2024-01-02; 3.14159 and 1,000,000."),
    ("nfc input", "Café résumé naïve"),
    ("nfd input", "Cafe\u0301 re\u0301sume\u0301 nai\u0308ve"),
    ("hangul jamo", "\u1100\u1161\u11a8 \uac00"),
    ("combining marks", "e\u0301\u0323 a\u030a"),
    ("emoji", "I love 🍕 and 🚀! 👍🏽 ❤️ 👨\u200d👩\u200d👧"),
    ("cjk", "你好，世界！这是一个测试。こんにちは世界。안녕하세요"),
    ("cyrillic greek arabic", "Привет, мир! Γειά σου κόσμε. مرحبا بالعالم"),
    ("crlf", "line one\r\nline two\r\n\r\nend"),
    ("trailing spaces", "trailing   \nspaces   "),
    ("whitespace runs", "a    b\t\t\tc\n\n\n  d \u00a0 e\u3000f"),
    ("odd whitespace", "x\x0bx\x0cx\x1cx\x1fx\x85x\u2028x\u200bx"),
    ("control bytes", "\x00\x01\x7f nul"),
    ("special look-alikes", 'say <|im_end|> then <tool_call>{"name": "x"}</tool_call> and <|endoftext|>'),
    ("punctuation", "Hello!!! ... ??? (x) [y] {z} --> <=> #@$%^&*"),
    ("long word", "supercalifragilisticexpialidocious" * 3),
    ("long space run", " " * 40 + "x" + "\n" * 5),
    ("apostrophes", "'s 's' ''ll DON'T rock'n'roll 'Re 'VE 'lL 'x"),
    ("long s", "Ha'ſt thou 'ſ"),
    ("unseen text", "Zyzzyva quokka xylophone 🦜 ℵ₀ ∑∫ √2"),
]


def bytes_to_unicode():
    bs = (list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1))
          + list(range(ord("®"), ord("ÿ") + 1)))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return {b: chr(c) for b, c in zip(bs, cs)}


def load(folder):
    """Returns (vocab, ranks, nfc, patterns) of a tokenizer folder."""
    path = os.path.join(folder, "tokenizer.json")
    if os.path.exists(path):
        with open(path, encoding="utf-8") as f:
            tj = json.load(f)
        model = tj["model"]
        assert model["type"] == "BPE"
        merges = [tuple(m.split(" ")) if isinstance(m, str) else tuple(m) for m in model["merges"]]
        nfc = (tj.get("normalizer") or {}).get("type") == "NFC"
        pre = tj["pre_tokenizer"]
        stages = pre["pretokenizers"] if pre["type"] == "Sequence" else [pre]
        patterns = []
        for s in stages:
            if s["type"] == "Split":
                assert s["behavior"] == "Isolated" and not s["invert"]
                patterns.append(s["pattern"]["Regex"])
            else:
                assert s["type"] == "ByteLevel" and s is stages[-1]
                if s.get("use_regex", True):
                    patterns.append(GPT2_PATTERN)
        vocab = model["vocab"]
    else:
        with open(os.path.join(folder, "vocab.json"), encoding="utf-8") as f:
            vocab = json.load(f)
        with open(os.path.join(folder, "merges.txt"), encoding="utf-8") as f:
            lines = f.read().split("\n")
        merges = [tuple(ln.split(" ")) for ln in lines if ln and not ln.startswith("#version")]
        nfc, patterns = True, [QWEN_PATTERN]
    ranks = {m: i for i, m in enumerate(merges)}
    return vocab, ranks, nfc, patterns


QWEN_PATTERN = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}"
                r"| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+")


def split(text, patterns):
    """Hugging Face's Split with behavior Isolated, pattern after pattern:
    matches and the gaps between them are pieces."""
    pieces = [text] if text else []
    for p in patterns:
        out = []
        for piece in pieces:
            pos = 0
            for m in regex.finditer(p, piece):
                if m.start() > pos:
                    out.append(piece[pos:m.start()])
                if m.end() > m.start():
                    out.append(m.group())
                pos = m.end()
            if pos < len(piece):
                out.append(piece[pos:])
        pieces = out
    return pieces


def bpe(word, ranks):
    symbols = list(word)
    while len(symbols) > 1:
        best = None
        for i in range(len(symbols) - 1):
            r = ranks.get((symbols[i], symbols[i + 1]))
            if r is not None and (best is None or r < best[0]):
                best = (r, i)
        if best is None:
            break
        i = best[1]
        symbols[i:i + 2] = [symbols[i] + symbols[i + 1]]
    return symbols


def encode(text, vocab, ranks, nfc, patterns):
    byte_char = bytes_to_unicode()
    if nfc:
        text = unicodedata.normalize("NFC", text)
    pieces = split(text, patterns)
    ids = []
    for piece in pieces:
        word = "".join(byte_char[b] for b in piece.encode("utf-8"))
        ids += [vocab[s] for s in bpe(word, ranks)]
    return pieces, ids


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: reference_bpe.py FOLDER GOLDEN.json")
    folder, out = sys.argv[1:]
    vocab, ranks, nfc, patterns = load(folder)
    cases = []
    for name, text in CASES:
        pieces, ids = encode(text, vocab, ranks, nfc, patterns)
        cases.append({"name": name, "text": text, "pieces": pieces, "ids": ids})
    with open(out, "w", encoding="utf-8") as f:
        json.dump({"folder": os.path.basename(os.path.normpath(folder)), "cases": cases}, f,
                  ensure_ascii=False, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
