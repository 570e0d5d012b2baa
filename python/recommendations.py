"""Item-to-item recommendations by cosine similarity of customer sets.

Input (one JSON document on stdin):
  {"product_id": P, "limit": L,
   "buyers": |C(P)|,                               distinct customers who bought P
   "candidates": [[X, |C(X)|, |C(P) & C(X)|], ...]} every product X != P that may be
                                                   listed (archived ones are left out)
                                                   with at least one customer in common
Output (stdout): {"data": [{"product_id", "score", "customers"}, ...]}

Postgres counts the customers where the purchases are (Node passes the counts
in); this script scores, orders and cuts, as the algorithm defines.

Standard library only: the gate runs this with `python -S -E`.
"""

import math
import sys

try:
    # The json package's C scanner, without the package: `import json` pulls
    # in re, enum and functools, about 10 ms of a run that is otherwise 10 ms
    # of interpreter start (npm run bench:compute-miss).
    from _json import make_scanner
except ImportError:  # another Python implementation: the package it is
    make_scanner = None


class _Strict:
    """What json.JSONDecoder gives its scanner: plain JSON, no hooks."""

    strict = True
    object_hook = None
    object_pairs_hook = None
    parse_float = float
    parse_int = int

    @staticmethod
    def parse_constant(name):
        raise ValueError("not JSON: %s" % name)


# JSON's white space (RFC 8259), as json.loads skips it: not str.strip()'s.
_WHITESPACE = " \t\n\r"


def parse(text):
    """One JSON document, as json.loads reads it."""
    if make_scanner is None:
        import json

        return json.loads(text)
    start = len(text) - len(text.lstrip(_WHITESPACE))
    try:
        value, end = make_scanner(_Strict())(text, start)
    except StopIteration:
        raise ValueError("not a JSON document") from None
    if text[end:].strip(_WHITESPACE):
        raise ValueError("extra data after the JSON document")
    return value


def recommend(product_id, limit, buyers, candidates):
    if buyers == 0:
        return []
    rows = []
    for product, size, shared in candidates:
        if product == product_id or shared < 1 or size < shared or buyers < shared:
            raise ValueError("inconsistent customer counts for product %r" % (product,))
        score = shared / math.sqrt(buyers * size)
        rows.append((round(score, 6), shared, product))
    # Ordered on the rounded score, the one a client sees, so that products
    # whose scores are equal on paper are not split by floating-point noise.
    rows.sort(key=lambda r: (-r[0], -r[1], r[2]))
    return [
        {"product_id": product, "score": score, "customers": shared}
        for score, shared, product in rows[:limit]
    ]


def main():
    request = parse(sys.stdin.buffer.read().decode("utf-8"))
    data = recommend(
        int(request["product_id"]),
        int(request["limit"]),
        int(request["buyers"]),
        request["candidates"],
    )
    # As json.dumps writes it: integers, and scores as repr() writes a float.
    sys.stdout.write(
        '{"data":[%s]}'
        % ",".join(
            '{"product_id":%d,"score":%r,"customers":%d}' % (r["product_id"], r["score"], r["customers"])
            for r in data
        )
    )


if __name__ == "__main__":
    main()
