#!/usr/bin/python3
"""TAP test: `vigil-cli tokenize` against a Python reference on random texts.

The reference is open_clip 2.16's SimpleTokenizer + tokenize() (the `regex` module split with
IGNORECASE, byte-level BPE, 77 ids with EOT kept on truncation) minus ftfy, which Debian does
not package; the random texts avoid what ftfy would change (test-tokenizer.c checks that part).
Usage: clip-tokenizer-ref.py VIGIL_CLI VOCAB_GZ [COUNT] [SEED]
"""
import gzip
import html
import json
import random
import re
import subprocess
import sys
import unicodedata

import regex


def bytes_to_unicode():
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + \
        list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, map(chr, cs)))


class Reference:
    def __init__(self, path):
        self.byte_encoder = bytes_to_unicode()
        merges = gzip.open(path).read().decode("utf-8").split("\n")[1:49152 - 256 - 2 + 1]
        merges = [tuple(m.split()) for m in merges]
        vocab = list(self.byte_encoder.values())
        vocab = vocab + [v + "</w>" for v in vocab] + ["".join(m) for m in merges]
        special = ["<start_of_text>", "<end_of_text>"]
        vocab.extend(special)
        self.encoder = dict(zip(vocab, range(len(vocab))))
        self.ranks = dict(zip(merges, range(len(merges))))
        self.cache = {t: t for t in special}
        self.pat = regex.compile("|".join(special) +
                                 r"""|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+""",
                                 regex.IGNORECASE)
        self.words = [v[:-4] for v in vocab[512:-2] if v.isascii() and v.endswith("</w>")]

    def bpe(self, token):
        if token in self.cache:
            return self.cache[token]
        word = tuple(token[:-1]) + (token[-1] + "</w>",)
        while len(word) > 1:
            pairs = set(zip(word, word[1:]))
            first, second = min(pairs, key=lambda p: self.ranks.get(p, float("inf")))
            if (first, second) not in self.ranks:
                break
            new, i = [], 0
            while i < len(word):
                if i < len(word) - 1 and word[i] == first and word[i + 1] == second:
                    new.append(first + second)
                    i += 2
                else:
                    new.append(word[i])
                    i += 1
            word = tuple(new)
        self.cache[token] = " ".join(word)
        return self.cache[token]

    @staticmethod
    def clean(text):
        text = unicodedata.normalize("NFC", text)  # ftfy.fix_text's last step
        text = html.unescape(html.unescape(text)).strip()
        return re.sub(r"\s+", " ", text).strip().lower()

    def tokenize(self, text):
        text = self.clean(text)
        ids = []
        for token in self.pat.findall(text):
            token = "".join(self.byte_encoder[b] for b in token.encode("utf-8"))
            ids.extend(self.encoder[t] for t in self.bpe(token).split(" "))
        tokens = [49406] + ids + [49407]
        truncated = len(tokens) > 77
        if truncated:
            tokens = tokens[:77]
            tokens[-1] = 49407
        return tokens + [0] * (77 - len(tokens)), truncated


# Letters, marks, digits, symbols and spaces of many scripts (decomposed forms and Hangul
# jamo too, for NFC); nothing else that ftfy rewrites.
ALPHABET = ("abcdefXYZ éÉàßΣσςİıſK'\"&;#<>-_.,!?0123456789 ½²ⅫⅰΑΩЖжЁё中文脑テスト한국어"
            "😀🧠👩\u200d⚕\ufe0f\u0301\u0345\t\n\xa0\u2003\u2028\u00ad∑µ°±"
            "\u0300\u0308\u0323\u0327\u0313\u1100\u1161\u11a8\u212b\u1e0a\u0d4a\u0d3e\u0f73")
SNIPPETS = ["&amp;", "&lt;", "&eacute", "&#233;", "&#x41;", "&notin;", "&notit;", "&amp;amp;",
            "&#0;", "&#1;", "&#128;", "&#xD800;", "&#99999999;", "&gt", "<start_of_text>",
            "<END_OF_TEXT>", "'S", "'Re", "ΣΑΣ ΑΣ. Σ", "İİ", "X-ray", "don't", "1,000.5"]


def random_text(rng, words):
    r = rng.random()
    if r < 0.35:
        return " ".join(rng.choice(words) for _ in range(rng.randint(1, 90)))
    if r < 0.65:
        return "".join(rng.choice(ALPHABET) for _ in range(rng.randint(0, 80)))
    if r < 0.8:
        return "".join(rng.choice(words) for _ in range(rng.randint(1, 8)))
    return " ".join(rng.choice(SNIPPETS + words) for _ in range(rng.randint(1, 12)))


def main():
    cli, vocab = sys.argv[1], sys.argv[2]
    count = int(sys.argv[3]) if len(sys.argv) > 3 else 600
    rng = random.Random(int(sys.argv[4]) if len(sys.argv) > 4 else 1)
    ref = Reference(vocab)
    texts = [random_text(rng, ref.words) for _ in range(count)]
    out = subprocess.run([cli, "tokenize", "--json", "--vocab", vocab, "--"] + texts,
                         capture_output=True, text=True, check=True)
    got = json.loads(out.stdout)["texts"]
    print("TAP version 13")
    print("1..2")
    bad = 0
    for text, g in zip(texts, got):
        ids, truncated = ref.tokenize(text)
        if g["text"] != text or g["clean"] != ref.clean(text) or g["ids"] != ids or \
                g["truncated"] != truncated or g["eot_index"] != ids.index(49407):
            bad += 1
            if bad <= 5:
                print(f"# text {text!r}\n#  clean {ref.clean(text)!r} / {g['clean']!r}\n"
                      f"#  want {[i for i in ids if i]}\n#  got  {[i for i in g['ids'] if i]}")
    n_cut = sum(1 for t in texts if ref.tokenize(t)[1])
    ok = bad == 0 and len(got) == count
    print(f"{'ok' if ok else 'not ok'} 1 - {count} random texts match the reference "
          f"({bad} differ)")
    print(f"{'ok' if n_cut >= 10 else 'not ok'} 2 - the sample truncates {n_cut} texts")
    return 0 if ok and n_cut >= 10 else 1


sys.exit(main())
