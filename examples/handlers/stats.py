"""A Python handler: `polybox run examples/handlers/stats.py --event '{"values": [3, 1, 2]}'`."""

import statistics


async def handler(event):
    values = event["values"]
    print("summarising", len(values), "values")
    return {"mean": statistics.mean(values), "median": statistics.median(values)}
