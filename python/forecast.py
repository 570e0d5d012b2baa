"""Daily revenue forecast with Holt's linear trend (double exponential smoothing).

Input (one JSON document on stdin):
  {"history": [{"date": "YYYY-MM-DD", "revenue_cents": int}, ...],   oldest first, >= 2 days
   "days": D}
Output (stdout):
  {"method": "holt", "alpha": 0.5, "beta": 0.3, "history": [...as given...],
   "forecast": [{"date": last date + h, "revenue_cents": int}, h = 1..D]}

Standard library only: the gate runs this with `python -S -E`.
"""

import datetime
import json
import sys

ALPHA = 0.5
BETA = 0.3


def holt(series, days, alpha=ALPHA, beta=BETA):
    if len(series) < 2:
        raise ValueError("Holt's method needs at least two observations")
    level = series[0]
    trend = series[1] - series[0]
    for y in series[1:]:
        previous = level
        level = alpha * y + (1 - alpha) * (level + trend)
        trend = beta * (level - previous) + (1 - beta) * trend
    # round() is Python's: half to even.
    return [max(0, round(level + h * trend)) for h in range(1, days + 1)]


def main():
    request = json.loads(sys.stdin.buffer.read())
    history = request["history"]
    days = int(request["days"])
    series = [int(point["revenue_cents"]) for point in history]
    last = datetime.date.fromisoformat(history[-1]["date"])
    values = holt(series, days)
    forecast = [
        {"date": (last + datetime.timedelta(days=h)).isoformat(), "revenue_cents": value}
        for h, value in enumerate(values, start=1)
    ]
    sys.stdout.write(
        json.dumps(
            {
                "method": "holt",
                "alpha": ALPHA,
                "beta": BETA,
                "history": [
                    {"date": p["date"], "revenue_cents": int(p["revenue_cents"])} for p in history
                ],
                "forecast": forecast,
            },
            separators=(",", ":"),
        )
    )


if __name__ == "__main__":
    main()
