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

import json
import math
import sys


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
    request = json.loads(sys.stdin.buffer.read())
    data = recommend(
        int(request["product_id"]),
        int(request["limit"]),
        int(request["buyers"]),
        request["candidates"],
    )
    sys.stdout.write(json.dumps({"data": data}, separators=(",", ":")))


if __name__ == "__main__":
    main()
