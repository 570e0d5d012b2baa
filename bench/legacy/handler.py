"""The legacy read handler: one process per request, as the old server ran it.

Usage: handler.py DATA_DIR ENDPOINT PARAMS_JSON
Reads the JSON files the endpoint needs from DATA_DIR (whole, with json.load,
as the original did), prints {"status": N, "body": {...}} on stdout.
Standard library only.
"""
import json
import os
import sys
from datetime import date, datetime, timedelta, timezone


def load(data_dir, name):
    path = os.path.join(data_dir, name)
    if not os.path.exists(path):
        return []
    with open(path, encoding="utf-8-sig") as f:
        return json.load(f)


def as_int(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def as_cents(value):
    try:
        return int(round(float(value) * 100))
    except (TypeError, ValueError):
        return 0


def as_date(value):
    """The UTC calendar date of a legacy timestamp (ISO text or epoch ms)."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return datetime.fromtimestamp(value / 1000, tz=timezone.utc).date()
    if isinstance(value, str):
        text = value.strip()
        try:
            parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            try:
                return date.fromisoformat(text[:10])
            except ValueError:
                return None
        if parsed.tzinfo is not None:
            parsed = parsed.astimezone(timezone.utc)
        return parsed.date()
    return None


def category_of(product):
    category = product.get("category")
    return category.strip().lower() if isinstance(category, str) and category.strip() else "uncategorized"


def product_body(p):
    return {
        "id": as_int(p.get("id")),
        "sku": p.get("sku"),
        "name": p.get("name"),
        "category": category_of(p),
        "price_cents": as_cents(p.get("price")),
        "stock": as_int(p.get("stock")) or 0,
        "tags": p.get("tags") or [],
        "created_at": p.get("created_at"),
    }


def status_of(order):
    status = str(order.get("status", "")).strip().lower()
    return "cancelled" if status == "canceled" else status


def order_lines(order):
    return [item for item in (order.get("items") or []) if isinstance(item, dict)]


def order_total(order):
    return sum((as_int(i.get("quantity")) or 0) * as_cents(i.get("unit_price")) for i in order_lines(order))


def find(records, wanted):
    for record in records:
        if isinstance(record, dict) and as_int(record.get("id")) == wanted:
            return record
    return None


def products_list(data_dir, params):
    category = (params.get("category") or "").lower()
    limit = as_int(params.get("limit")) or 20
    rows = [p for p in load(data_dir, "products.json") if isinstance(p, dict)]
    if category:
        rows = [p for p in rows if category_of(p) == category]
    rows.sort(key=lambda p: as_int(p.get("id")) or 0)
    return 200, {"data": [product_body(p) for p in rows[:limit]], "next_cursor": None}


def product(data_dir, params):
    p = find(load(data_dir, "products.json"), as_int(params.get("id")))
    return (200, product_body(p)) if p else (404, {"error": "Product not found"})


def categories(data_dir, _params):
    counts = {}
    for p in load(data_dir, "products.json"):
        if isinstance(p, dict):
            counts[category_of(p)] = counts.get(category_of(p), 0) + 1
    return 200, {"data": [{"category": c, "product_count": n} for c, n in sorted(counts.items())]}


def customer(data_dir, params):
    wanted = as_int(params.get("id"))
    c = find(load(data_dir, "customers.json"), wanted)
    if not c:
        return 404, {"error": "Customer not found"}
    mine = [o for o in load(data_dir, "orders.json") if isinstance(o, dict) and as_int(o.get("customer_id")) == wanted]
    spent = sum(order_total(o) for o in mine if status_of(o) in ("paid", "shipped"))
    return 200, {
        "id": wanted,
        "email": c.get("email"),
        "name": c.get("name"),
        "country": c.get("country"),
        "created_at": c.get("created_at"),
        "order_count": len(mine),
        "total_spent_cents": spent,
    }


def customer_orders(data_dir, params):
    wanted = as_int(params.get("id"))
    if not find(load(data_dir, "customers.json"), wanted):
        return 404, {"error": "Customer not found"}
    limit = as_int(params.get("limit")) or 20
    mine = [o for o in load(data_dir, "orders.json") if isinstance(o, dict) and as_int(o.get("customer_id")) == wanted]
    mine.sort(key=lambda o: (str(o.get("created_at")), as_int(o.get("id")) or 0), reverse=True)
    data = [
        {
            "id": as_int(o.get("id")),
            "created_at": o.get("created_at"),
            "status": status_of(o),
            "units": sum(as_int(i.get("quantity")) or 0 for i in order_lines(o)),
            "total_cents": order_total(o),
        }
        for o in mine[:limit]
    ]
    return 200, {"data": data, "next_cursor": None}


def order(data_dir, params):
    o = find(load(data_dir, "orders.json"), as_int(params.get("id")))
    if not o:
        return 404, {"error": "Order not found"}
    names = {as_int(p.get("id")): p.get("name") for p in load(data_dir, "products.json") if isinstance(p, dict)}
    items = []
    for n, i in enumerate(order_lines(o), start=1):
        quantity = as_int(i.get("quantity")) or 0
        price = as_cents(i.get("unit_price"))
        product_id = as_int(i.get("product_id"))
        items.append({
            "line_no": n,
            "product_id": product_id,
            "name": names.get(product_id),
            "quantity": quantity,
            "unit_price_cents": price,
            "line_total_cents": quantity * price,
        })
    return 200, {
        "id": as_int(o.get("id")),
        "customer_id": as_int(o.get("customer_id")),
        "created_at": o.get("created_at"),
        "status": status_of(o),
        "total_cents": sum(i["line_total_cents"] for i in items),
        "items": items,
    }


def period_start(day, granularity):
    if granularity == "month":
        return day.replace(day=1)
    if granularity == "week":
        return day - timedelta(days=day.weekday())
    return day


def sales_stats(data_dir, params):
    try:
        first = date.fromisoformat(params.get("from", ""))
        last = date.fromisoformat(params.get("to", ""))
    except ValueError:
        return 400, {"error": "from and to must be dates"}
    granularity = params.get("granularity") or "day"
    category = (params.get("category") or "").lower()
    in_category = None
    if category:
        in_category = {as_int(p.get("id")) for p in load(data_dir, "products.json") if isinstance(p, dict) and category_of(p) == category}
    buckets = {}
    day = period_start(first, granularity)
    while day <= last:
        buckets[day] = {"period": day.isoformat(), "orders": 0, "units": 0, "revenue_cents": 0}
        day = (day + timedelta(days=32)).replace(day=1) if granularity == "month" else day + timedelta(days=7 if granularity == "week" else 1)
    for o in load(data_dir, "orders.json"):
        if not isinstance(o, dict) or status_of(o) not in ("paid", "shipped"):
            continue
        day = as_date(o.get("created_at"))
        if day is None or day < first or day > last:
            continue
        lines = [i for i in order_lines(o) if in_category is None or as_int(i.get("product_id")) in in_category]
        if not lines:
            continue
        bucket = buckets[period_start(day, granularity)]
        bucket["orders"] += 1
        bucket["units"] += sum(as_int(i.get("quantity")) or 0 for i in lines)
        bucket["revenue_cents"] += sum((as_int(i.get("quantity")) or 0) * as_cents(i.get("unit_price")) for i in lines)
    return 200, {"granularity": granularity, "from": first.isoformat(), "to": last.isoformat(), "data": list(buckets.values())}


ENDPOINTS = {
    "products": products_list,
    "product": product,
    "categories": categories,
    "customer": customer,
    "customer-orders": customer_orders,
    "order": order,
    "sales-stats": sales_stats,
}


def main():
    data_dir, endpoint, params = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
    status, body = ENDPOINTS[endpoint](data_dir, params)
    sys.stdout.write(json.dumps({"status": status, "body": body}))


if __name__ == "__main__":
    main()
