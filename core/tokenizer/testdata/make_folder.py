#!/usr/bin/env python3
"""Train a small byte-level BPE and write it as a Hugging Face tokenizer folder
the way Qwen2 and Qwen3 ship theirs.

The folder holds tokenizer.json (NFC normaliser; Qwen's Split regex then
ByteLevel; a BPE model with vocab and merges) and tokenizer_config.json (with
added_tokens_decoder), and, with --vocab-out, a second folder with the same
model as vocab.json + merges.txt + tokenizer_config.json.

Training is plain BPE: the corpus is NFC-normalised, split with Qwen's
pre-tokenisation regex, each piece written in GPT-2's bytes_to_unicode
alphabet; then the most frequent adjacent pair is merged, again and again,
until --merges merges are made or no pair occurs --min-count times (ties go
to the smallest pair as strings). The vocabulary is the 256 byte tokens (in GPT-2's
order, as Qwen's vocabulary starts), then one token per merge, then Qwen3's
added tokens.

Corpus arguments are text files, folders (every file, sorted, .git skipped) or
git bundles (cloned to a temporary folder; the files of their HEAD, then
their history as `git log -p` prints it).

Needs Python 3 and the `regex` module (Debian: python3-regex). Used for
core/tokenizer/testdata/qwen{,_vocab} and examples/quickstart/student:

  python3 core/tokenizer/testdata/make_folder.py --merges 400 \
      --out core/tokenizer/testdata/qwen --vocab-out core/tokenizer/testdata/qwen_vocab \
      core/tokenizer/testdata/corpus.txt
  python3 core/tokenizer/testdata/make_folder.py --merges 2000 \
      --out examples/quickstart/student \
      examples/repos/textkit.bundle examples/repos/semver.bundle examples/tasks/bundled.jsonl
"""

import argparse
import collections
import json
import os
import subprocess
import sys
import tempfile
import unicodedata

import regex

# Qwen2/Qwen3's pre-tokenisation pattern (tokenizer.json, Split, Isolated).
QWEN_PATTERN = (
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}"
    r"| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
)

# Qwen3's added tokens, in id order after the BPE vocabulary: (content, special).
QWEN3_ADDED = [
    ("<|endoftext|>", True),
    ("<|im_start|>", True),
    ("<|im_end|>", True),
    ("<|object_ref_start|>", True),
    ("<|object_ref_end|>", True),
    ("<|box_start|>", True),
    ("<|box_end|>", True),
    ("<|quad_start|>", True),
    ("<|quad_end|>", True),
    ("<|vision_start|>", True),
    ("<|vision_end|>", True),
    ("<|vision_pad|>", True),
    ("<|image_pad|>", True),
    ("<|video_pad|>", True),
    ("<tool_call>", False),
    ("</tool_call>", False),
    ("<|fim_prefix|>", False),
    ("<|fim_middle|>", False),
    ("<|fim_suffix|>", False),
    ("<|fim_pad|>", False),
    ("<|repo_name|>", False),
    ("<|file_sep|>", False),
    ("<tool_response>", False),
    ("</tool_response>", False),
    ("<think>", False),
    ("</think>", False),
]


def bytes_to_unicode():
    """GPT-2's byte alphabet: byte -> printable character, and the byte order
    of the 256 base tokens."""
    bs = (list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1))
          + list(range(ord("®"), ord("ÿ") + 1)))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return bs, {b: chr(c) for b, c in zip(bs, cs)}


def corpus_files(arg, tmp):
    if arg.endswith(".bundle"):
        dest = os.path.join(tmp, os.path.basename(arg))
        subprocess.run(["git", "clone", "-q", arg, dest], check=True)
        names = subprocess.run(["git", "-C", dest, "ls-files"], check=True,
                               capture_output=True, text=True).stdout.split("\n")
        # The history too: commit messages and diffs are text of the repository.
        history = os.path.join(tmp, os.path.basename(arg) + ".log")
        with open(history, "wb") as f:
            subprocess.run(["git", "-C", dest, "log", "-p", "--reverse", "--format=%B"],
                           check=True, stdout=f)
        return [os.path.join(dest, n) for n in sorted(names) if n] + [history]
    if os.path.isdir(arg):
        out = []
        for root, dirs, files in os.walk(arg):
            dirs[:] = sorted(d for d in dirs if d != ".git")
            out += [os.path.join(root, f) for f in sorted(files)]
        return out
    return [arg]


def read_corpus(args):
    texts = []
    with tempfile.TemporaryDirectory() as tmp:
        for arg in args:
            for path in corpus_files(arg, tmp):
                with open(path, "rb") as f:
                    data = f.read()
                try:
                    texts.append(data.decode("utf-8"))
                except UnicodeDecodeError:
                    print(f"skip {path}: not UTF-8", file=sys.stderr)
    return texts


def train(texts, n_merges, min_count=2):
    _, byte_char = bytes_to_unicode()
    words = collections.Counter()
    for text in texts:
        for piece in regex.findall(QWEN_PATTERN, unicodedata.normalize("NFC", text)):
            words["".join(byte_char[b] for b in piece.encode("utf-8"))] += 1
    syms = [list(w) for w in words]
    counts = list(words.values())
    pairs = collections.Counter()
    where = collections.defaultdict(set)

    def add(i, sign):
        s = syms[i]
        for a, b in zip(s, s[1:]):
            pairs[(a, b)] += sign * counts[i]
            if sign > 0:
                where[(a, b)].add(i)

    for i in range(len(syms)):
        add(i, 1)
    merges, known = [], set(byte_char.values())
    while len(merges) < n_merges:
        best_count = max((c for c in pairs.values() if c > 0), default=0)
        if best_count < min_count:
            break
        best = min(p for p, c in pairs.items() if c == best_count)
        new = best[0] + best[1]
        assert new not in known, f"merge {best} makes {new!r} a second time"
        known.add(new)
        merges.append(best)
        for i in sorted(where.pop(best)):
            s = syms[i]
            add(i, -1)
            out, j = [], 0
            while j < len(s):
                if j + 1 < len(s) and (s[j], s[j + 1]) == best:
                    out.append(new)
                    j += 2
                else:
                    out.append(s[j])
                    j += 1
            syms[i] = out
            add(i, 1)
        for p in [p for p, c in pairs.items() if c <= 0]:
            del pairs[p]
    return merges


def vocab_of(merges):
    bs, byte_char = bytes_to_unicode()
    vocab = {byte_char[b]: i for i, b in enumerate(bs)}
    for a, b in merges:
        vocab[a + b] = len(vocab)
    return vocab


def added_tokens(first_id):
    return [{"id": first_id + i, "content": c, "single_word": False, "lstrip": False,
             "rstrip": False, "normalized": False, "special": s}
            for i, (c, s) in enumerate(QWEN3_ADDED)]


def config(added):
    decoder = {str(t["id"]): {k: t[k] for k in ("content", "lstrip", "normalized", "rstrip",
                                                 "single_word", "special")} for t in added}
    return {
        "add_bos_token": False,
        "add_prefix_space": False,
        "added_tokens_decoder": decoder,
        "additional_special_tokens": [t["content"] for t in added if t["special"]][1:],
        "bos_token": None,
        "clean_up_tokenization_spaces": False,
        "eos_token": "<|im_end|>",
        "errors": "replace",
        "model_max_length": 32768,
        "pad_token": "<|endoftext|>",
        "split_special_tokens": False,
        "tokenizer_class": "Qwen2Tokenizer",
        "unk_token": None,
    }


def tokenizer_json(vocab, merges, added, merge_style):
    byte_level = {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": False,
                  "use_regex": False}
    return {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": added,
        "normalizer": {"type": "NFC"},
        "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
            {"type": "Split", "pattern": {"Regex": QWEN_PATTERN}, "behavior": "Isolated",
             "invert": False},
            byte_level,
        ]},
        "post_processor": byte_level,
        "decoder": byte_level,
        "model": {
            "type": "BPE",
            "dropout": None,
            "unk_token": None,
            "continuing_subword_prefix": "",
            "end_of_word_suffix": "",
            "fuse_unk": False,
            "byte_fallback": False,
            "ignore_merges": False,
            "vocab": vocab,
            "merges": [[a, b] if merge_style == "pairs" else f"{a} {b}" for a, b in merges],
        },
    }


def dump(path, obj):
    # One vocabulary entry or merge a line keeps the files small and diffable.
    text = json.dumps(obj, ensure_ascii=False, indent=2)
    with open(path, "w", encoding="utf-8") as f:
        f.write(compact(text) + "\n")


def compact(text):
    """Put each ["a", "b"] merge pair, indented over three lines by json.dumps,
    back on one line."""
    lines, out, i = text.split("\n"), [], 0
    while i < len(lines):
        ln = lines[i]
        if ln.endswith("[") and i + 3 < len(lines) and lines[i + 3].strip() in ("]", "],"):
            a, b = lines[i + 1].strip(), lines[i + 2].strip()
            out.append(ln + a + " " + b + lines[i + 3].strip())
            i += 4
            continue
        out.append(ln)
        i += 1
    return "\n".join(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--merges", type=int, required=True, help="number of merges to learn (at most)")
    ap.add_argument("--min-count", type=int, default=2, help="stop when no pair occurs this often")
    ap.add_argument("--out", required=True, help="folder for tokenizer.json and tokenizer_config.json")
    ap.add_argument("--vocab-out", help="also write vocab.json, merges.txt and tokenizer_config.json here")
    ap.add_argument("--merge-style", choices=["pairs", "strings"], default="pairs",
                    help='tokenizer.json merges as ["a", "b"] pairs (tokenizers >= 0.20) or "a b" strings')
    ap.add_argument("corpus", nargs="+", help="text files, folders or git bundles")
    args = ap.parse_args()

    merges = train(read_corpus(args.corpus), args.merges, args.min_count)
    vocab = vocab_of(merges)
    added = added_tokens(len(vocab))
    os.makedirs(args.out, exist_ok=True)
    dump(os.path.join(args.out, "tokenizer.json"), tokenizer_json(vocab, merges, added, args.merge_style))
    dump(os.path.join(args.out, "tokenizer_config.json"), config(added))
    if args.vocab_out:
        os.makedirs(args.vocab_out, exist_ok=True)
        dump(os.path.join(args.vocab_out, "vocab.json"), vocab)
        with open(os.path.join(args.vocab_out, "merges.txt"), "w", encoding="utf-8") as f:
            f.write("#version: 0.2\n" + "".join(f"{a} {b}\n" for a, b in merges))
        dump(os.path.join(args.vocab_out, "tokenizer_config.json"), config(added))
    print(f"{len(merges)} merges, {len(vocab)} BPE tokens, {len(added)} added tokens", file=sys.stderr)


if __name__ == "__main__":
    main()
