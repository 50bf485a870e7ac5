"""The benchmark's results as a markdown table and as JSON."""

import json
import statistics


def medians(runs: list[dict]) -> dict:
    """The median of each figure over ``runs`` (dicts with the same numeric keys)."""
    return {key: statistics.median(run[key] for run in runs) for key in runs[0]}


def rate(figures: dict, unit: str = "req/s") -> str:
    """``116 req/s, p50 80 ms, p99 215 ms`` from a run's medians."""
    text = f"{figures['rps']:,.0f} {unit}"
    if "p50" in figures:
        text += f", p50 {figures['p50']:,.0f} ms, p99 {figures['p99']:,.0f} ms"
    return text


def row(
    measure: str,
    portal: dict,
    ceiling: dict,
    ceiling_label: str,
    unit: str = "req/s",
    ceiling_unit: str = "req/s",
) -> dict:
    """One line of the table: the portal's and the ceiling's medians and their ratio of rates."""
    return {
        "measure": measure,
        "portal": portal,
        "ceiling": ceiling,
        "ceiling_label": ceiling_label,
        "unit": unit,
        "ceiling_unit": ceiling_unit,
        "ratio": portal["rps"] / ceiling["rps"] if ceiling["rps"] else 0.0,
    }


def markdown(rows: list[dict]) -> str:
    """measure | portal | ceiling | ratio."""
    lines = ["| measure | portal | ceiling | ratio |", "|---|---|---|---|"]
    for line in rows:
        portal = rate(line["portal"], line["unit"])
        ceiling = f"{line['ceiling_label']}: {rate(line['ceiling'], line['ceiling_unit'])}"
        lines.append(f"| {line['measure']} | {portal} | {ceiling} | {line['ratio']:.3f} |")
    return "\n".join(lines)


def write_json(path: str, rows: list[dict], settings: dict) -> None:
    with open(path, "w") as out:
        json.dump({"settings": settings, "rows": rows}, out, indent=2)
