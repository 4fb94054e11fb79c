"""A Python program: counts the words on standard input.

`echo "the cat and the hat" | polybox exec examples/programs/word_count.py`
"""

import sys
from collections import Counter

counts = Counter(sys.stdin.read().split())
for word, count in counts.most_common():
    print(f"{count} {word}")
