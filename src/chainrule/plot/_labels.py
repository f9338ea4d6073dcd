"""Short labels for figures that stay tellable apart.

Cutting every label at N characters makes labels that share a long prefix identical
("Escherichia coli K-12 MG…" three times); these helpers keep the part that differs.
"""

from __future__ import annotations

import re

_SEPARATOR = re.compile(r"[\s_]+")
_DOLLAR = re.compile(r"(?<!\\)\$")


def plain(text) -> str:
    """``text`` as matplotlib shows it literally: a ``$`` in a name from the data ("price ($)")
    would otherwise start maths (dropping the signs, or failing on "x^^2"). A ``$`` already
    escaped is left as it is, so text that went through ``plain`` once reads the same after
    a second time."""
    return _DOLLAR.sub(r"\\$", str(text))


def short_labels(labels, limit: int) -> tuple[list[str], bool]:
    """Labels of at most ``limit`` characters that stay distinct when the labels are.

    Tried in turn, the first whose results are all different wins:

    1. a long label keeps its beginning and its end, at word boundaries where it can,
       with an ellipsis in the middle ("Escherichia…ΔlacZ mutant");
    2. a long label keeps the stretch where it differs from the others, with ellipses
       where it was cut ("…MG1655 ΔlacZ mutant");
    3. labels are numbered, "[1] Escher…mutant": the caller then adds a key of the full
       labels (the second value returned is True).

    Parameters
    ----------
    labels : sequence
        Any values; ``str`` of each is shortened.
    limit : int
        The longest label returned (numbered ones included).

    Returns
    -------
    (list of str, bool)
        The labels, and whether they were numbered.
    """
    texts = [str(label) for label in labels]
    if all(len(text) <= limit for text in texts):
        return texts, False
    wanted = len(set(texts))
    for shorten in (middle_ellipsis, lambda text, n: differing_part(text, texts, n)):
        short = [shorten(text, limit) for text in texts]
        if len(set(short)) == wanted:
            return short, False
    numbered = []
    for i, text in enumerate(texts, start=1):
        prefix = f"[{i}] "
        numbered.append(prefix + middle_ellipsis(text, max(limit - len(prefix), 3)))
    return numbered, True


def middle_ellipsis(text: str, limit: int) -> str:
    """``text`` in at most ``limit`` characters: a head and a tail joined by an ellipsis,
    cut at word boundaries where that keeps about as much (a cut inside a word costs 8
    characters in the choice), the two parts about equally long."""
    if len(text) <= limit:
        return text
    budget = limit - 1  # characters besides the ellipsis
    if budget < 2:
        return text[:budget] + "…"
    n = len(text)
    word_ends = [m.start() for m in _SEPARATOR.finditer(text) if m.start() > 0]
    word_starts = [m.end() for m in _SEPARATOR.finditer(text) if m.end() < n]
    heads = [(end, 0) for end in word_ends if end < budget] + [(max(1, round(0.45 * budget)), 8)]
    best = None
    for head, head_cost in heads:
        room = budget - head
        tails = [(start, 0) for start in word_starts if 0 < n - start <= room and start > head]
        tails.append((n - room, 8))
        for start, tail_cost in tails:
            kept = head + n - start
            score = kept - 0.5 * abs(head - (n - start)) - head_cost - tail_cost
            if best is None or score > best[0]:
                best = (score, head, start)
    _, head, start = best
    return text[:head].rstrip() + "…" + text[start:].lstrip()


def differing_part(text: str, texts: list[str], limit: int) -> str:
    """The stretch of ``text`` where it differs from the others, cut to ``limit``."""
    if len(text) <= limit:
        return text
    others = [other for other in texts if other != text]
    prefix = max((_common_prefix(text, other) for other in others), default=0)
    suffix = max((_common_prefix(text[::-1], other[::-1]) for other in others), default=0)
    budget = max(limit - 2, 1)  # room for an ellipsis at each end
    # from where it first differs from the label most like its start to where it last
    # differs from the label most like its end (these may come in either order)
    start = max(0, min(prefix, len(text) - suffix - 1))
    end = max(prefix + 1, len(text) - suffix)
    end = min(end, start + budget)
    spare = budget - (end - start)
    start = max(0, start - spare // 2)
    end = min(len(text), start + budget)
    start = max(0, end - budget)
    return ("…" if start > 0 else "") + text[start:end] + ("…" if end < len(text) else "")


def _common_prefix(a: str, b: str) -> int:
    n = 0
    for x, y in zip(a, b):
        if x != y:
            break
        n += 1
    return n
