#!/usr/bin/python3
"""The CLIP tokenizer reference: a TAP test of `vigil-cli tokenize`, and the writer of the
project's reference cases.

The reference is open_clip 2.16's SimpleTokenizer + tokenize() (the `regex` module split with
IGNORECASE, byte-level BPE, 77 ids with EOT kept on truncation) minus ftfy, which Debian does
not package; the texts avoid what ftfy would change (test-tokenizer.c checks that part).

  clip-tokenizer-ref.py VIGIL_CLI VOCAB_GZ [COUNT] [SEED] [CASES_JSON]
      TAP: COUNT random texts through `vigil-cli tokenize --json` against the reference; with
      CASES_JSON, also that the file holds exactly what --write-cases writes.
  clip-tokenizer-ref.py --write-cases VOCAB_GZ OUT_JSON
      Writes the named cases below with their 77 ids (tests/reference/tokenizer_cases.json,
      read by the `tokenizer` and `cli-tokenize` tests). Regenerate with:
      /usr/bin/python3 tests/clip-tokenizer-ref.py --write-cases \
          resources/clip/bpe_simple_vocab_16e6.txt.gz tests/reference/tokenizer_cases.json
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


MVFA_CLASSES = ["Brain", "Liver", "Retina_RESC", "Retina_OCT2017", "Chest", "Histopathology"]

# Named cases, one kind of text each (none that ftfy would change: no full-width forms,
# ligatures, curly quotes, C1 controls or mojibake-like runs): MVFA's prompts, case and whitespace, punctuation,
# numbers, contractions, HTML entities, non-ASCII scripts and emoji, special-token look-alikes,
# and texts at and past the 77-token context.
CASES = [
    ("empty", ""),
    ("mvfa_normal_brain", "a bad photo of a Brain."),
    ("mvfa_flawless_liver", "a low resolution photo of the flawless Liver."),
    ("mvfa_abnormal_chest", "a jpeg corrupted photo of the damaged Chest X-ray film."),
    ("mvfa_without_defect", "this is one Histopathology without defect in the scene."),
    ("mvfa_with_damage_oct", "there is a Retina_OCT2017 with damage in the scene."),
    ("mvfa_close_up", "a close-up photo of the unblemished Retina_RESC."),
    ("mvfa_black_white", "a black and white photo of a broken Brain."),
    ("upper_case", "A PHOTO OF THE BRAIN MRI"),
    ("mixed_case", "MrI T2-FLAIR sEqUeNcE"),
    ("lead_trail_spaces", "    an axial slice    "),
    ("only_whitespace", " \t\n  \t "),
    ("inner_whitespace_runs", "left\t\tventricle\n\nenlarged   here"),
    ("punct_runs", "wow!!! what??? ok... -- ((( ))) ;; :: ,,,"),
    ("punct_attached", "(left)lobe,[right]lobe;{both}"),
    ("quotes_apostrophes", "the \"normal\" case and 'the other'"),
    ("slashes_urls", "see https://example.org/a_b?x=1&y=2 or c:\\dir\\file.dcm"),
    ("digits", "3.14159 2026 1,000,000 0x1F 12ab34 7th"),
    ("units", "5mm 12.5 cm 3T 1.5T 40kV 120 mAs"),
    ("dates_times", "2026-12-06 13:45:00 06/12/2026"),
    ("contractions", "don't can't I'm we've they'll he'd it's"),
    ("contractions_upper", "DON'T IT'S WE'LL THEY'D"),
    ("apostrophe_s_alone", "'s 't 're 've 'm 'll 'd"),
    ("html_entities", "&amp; &lt;tag&gt; &quot;quoted&quot; &#39;apos&#39; &eacute;"),
    ("html_double_escaped", "&amp;amp; &amp;lt;b&amp;gt;"),
    ("html_numeric", "&#233; &#x41; &#955; &notit;"),
    ("accents_nfc", "café naïve résumé à la crème brûlée"),
    ("accents_decomposed", "cafe\u0301 nai\u0308ve"),
    ("upper_accents", "ÀÉÎÕÜ ÇA VA"),
    ("german_sharp_s", "Straße Größe STRASSE"),
    ("turkish_i", "İstanbul ısık"),
    ("greek_sigma", "ΣΑΣ ΑΣ. Σ σοφός"),
    ("cyrillic", "Привет, мир! МРТ головного мозга"),
    ("chinese", "脑部核磁共振 正常"),
    ("japanese", "テスト 脳のMRI画像"),
    ("korean", "한국어 뇌 영상"),
    ("arabic_hebrew", "مرحبا שלום"),
    ("devanagari", "मस्तिष्क स्कैन"),
    ("math_symbols", "αβγ ∑ ∫ √ ∞ ≠ ≤ ± µm ½ ² °C"),
    ("emoji", "🧠 ok 😀😀 👍🏽"),
    ("emoji_zwj", "👩\u200d⚕️ doctor 👨\u200d👩\u200d👧"),
    ("nbsp", "non\xa0breaking\xa0space"),
    ("em_space_line_sep", "em\u2003space line\u2028sep"),
    ("soft_hyphen", "soft\xadhyphen"),
    ("long_word", "pneumonoultramicroscopicsilicovolcanoconiosis"),
    ("long_compound", "electroencephalographically-oesophagogastroduodenoscopy"),
    ("special_literal_openai", "<|startoftext|> hello <|endoftext|>"),
    ("special_literal_open_clip", "<start_of_text> hello <end_of_text>"),
    ("special_literal_upper", "<START_OF_TEXT> <End_Of_Text>"),
    ("underscores", "snake_case_name __init__ _x_"),
    ("fits_75_words", " ".join(["a"] * 75)),
    ("overflow_76_words", " ".join(["a"] * 76)),
    ("overflow_long_text", " ".join(["the anomaly map shows a bright region near the left "
                                     "ventricle"] * 12)),
    ("overflow_multi_token_words", " ".join(["pneumonoultramicroscopicsilicovolcanoconiosis"] * 8)),
    ("mixed_script", "MRIскан 脑 brain-été 🧠!"),
]


def write_cases(vocab, out):
    ref = Reference(vocab)
    cases = []
    for name, text in CASES:
        ids, truncated = ref.tokenize(text)
        cases.append({"name": name, "text": text, "ids": ids, "truncated": truncated})
    doc = {"tokenizer": "open_clip 2.16 CLIP tokenizer rules (tests/clip-tokenizer-ref.py), "
                        "OpenAI BPE vocabulary; texts past 75 BPE tokens are cut, EOT last",
           "generated_by": "/usr/bin/python3 tests/clip-tokenizer-ref.py --write-cases "
                           "resources/clip/bpe_simple_vocab_16e6.txt.gz "
                           "tests/reference/tokenizer_cases.json",
           "context_length": 77, "sot_id": 49406, "eot_id": 49407, "pad_id": 0, "cases": cases}
    text = json.dumps(doc, ensure_ascii=False, indent=1) + "\n"
    if out is None:
        return text
    with open(out, "w", encoding="utf-8") as f:
        f.write(text)
    return text


def main():
    if sys.argv[1] == "--write-cases":
        write_cases(sys.argv[2], sys.argv[3])
        return 0
    cli, vocab = sys.argv[1], sys.argv[2]
    count = int(sys.argv[3]) if len(sys.argv) > 3 else 600
    rng = random.Random(int(sys.argv[4]) if len(sys.argv) > 4 else 1)
    cases_file = sys.argv[5] if len(sys.argv) > 5 else None
    ref = Reference(vocab)
    texts = [random_text(rng, ref.words) for _ in range(count)]
    out = subprocess.run([cli, "tokenize", "--json", "--vocab", vocab, "--"] + texts,
                         capture_output=True, text=True, check=True)
    got = json.loads(out.stdout)["texts"]
    print("TAP version 13")
    print("1..3" if cases_file else "1..2")
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
    same = True
    if cases_file:
        with open(cases_file, encoding="utf-8") as f:
            same = f.read() == write_cases(vocab, None)
        print(f"{'ok' if same else 'not ok'} 3 - {cases_file} is what --write-cases writes "
              f"({len(CASES)} cases)")
    return 0 if ok and n_cut >= 10 and same else 1


sys.exit(main())
