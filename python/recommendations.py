"""Item-to-item recommendations by cosine similarity of customer sets.

Input (one JSON document on stdin):
  {"product_id": P, "limit": L,
   "pairs": [[customer_id, product_id], ...],   purchases, any order, repeats allowed
                                                (of P, and of the products that may be
                                                listed: archived ones are left out)
   "sizes": [[product_id, |C(X)|], ...]}        for every product X != P in pairs
Output (stdout): {"data": [{"product_id", "score", "customers"}, ...]}

Standard library only: the gate runs this with `python -S -E`.
"""

import json
import math
import sys


def recommend(product_id, limit, pairs, sizes):
    buyers_of = {}
    for customer, product in pairs:
        buyers_of.setdefault(product, set()).add(customer)
    target = buyers_of.get(product_id, set())
    if not target:
        return []
    size_of = {product: count for product, count in sizes}
    rows = []
    for product, buyers in buyers_of.items():
        if product == product_id:
            continue
        shared = len(target & buyers)
        if shared == 0:
            continue
        size = size_of.get(product)
        if size is None or size < shared:
            raise ValueError("no consistent customer count for product %r" % (product,))
        score = shared / math.sqrt(len(target) * size)
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
        request["pairs"],
        request["sizes"],
    )
    sys.stdout.write(json.dumps({"data": data}, separators=(",", ":")))


if __name__ == "__main__":
    main()
