#!/usr/bin/env python3
"""Draws the speed ratio of ours to each peer per case as an SVG bar chart.

Reads a bench.py results.json (the file next to results.md) and writes an
SVG with one group of bars per case: peer time over our time for each peer
that passed (above 1: ours is faster), and a line at 1. Standard library
only, so it runs wherever the results are (no matplotlib).

  python3 bench/plot_ratios.py bench/results/<run>.json -o <run>.svg
"""
import argparse
import json
import sys
from xml.sax.saxutils import escape

COLORS = ["#4878a8", "#e0913c", "#5aa35a", "#c44e52", "#8172b3", "#937860"]


def ratios(results):
    """[(case, {peer: ratio})] for the cases where ours passed."""
    rows = []
    for entry in results:
        records = {r["impl"]: r for r in entry["records"]}
        ours = records.get("ours")
        if not ours or ours.get("status") != "PASS" or not ours.get("median_ms"):
            continue
        peers = {}
        for impl, rec in records.items():
            if impl == "ours" or rec.get("status") != "PASS":
                continue
            if rec.get("median_ms"):
                peers[impl] = rec["median_ms"] / ours["median_ms"]
        rows.append((entry["case"]["name"], peers))
    return rows


def svg(rows, title):
    peers = sorted({p for _, ps in rows for p in ps})
    top = max([1.0] + [v for _, ps in rows for v in ps.values()])
    top = min(top, 4.0)  # longer bars are clipped and labelled
    bar, gap, label_w, plot_w = 9, 8, 330, 520
    group = bar * len(peers) + gap
    height = 60 + group * len(rows) + 20 * len(peers)
    width = label_w + plot_w + 60
    scale = plot_w / top
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" '
           f'height="{height}" font-family="sans-serif" font-size="11">',
           f'<text x="10" y="18" font-size="13">{escape(title)}</text>']
    y = 40
    for name, ps in rows:
        out.append(f'<text x="{label_w - 6}" y="{y + group / 2}" '
                   f'text-anchor="end">{escape(name)}</text>')
        for i, peer in enumerate(peers):
            if peer not in ps:
                continue
            v = ps[peer]
            w = min(v, top) * scale
            out.append(f'<rect x="{label_w}" y="{y + i * bar}" width="{w:.1f}" '
                       f'height="{bar - 1}" fill="{COLORS[i % len(COLORS)]}"/>')
            out.append(f'<text x="{label_w + w + 3:.1f}" y="{y + i * bar + bar - 2}" '
                       f'font-size="8">{v:.2f}</text>')
        y += group
    x1 = label_w + scale
    out.append(f'<line x1="{x1:.1f}" y1="34" x2="{x1:.1f}" y2="{y}" '
               'stroke="black" stroke-dasharray="4,3"/>')
    out.append(f'<text x="{x1 + 3:.1f}" y="32" font-size="9">1.0 (parity)</text>')
    for i, peer in enumerate(peers):
        ly = y + 14 + 18 * i
        out.append(f'<rect x="{label_w}" y="{ly - 9}" width="12" height="10" '
                   f'fill="{COLORS[i % len(COLORS)]}"/>')
        out.append(f'<text x="{label_w + 18}" y="{ly}">{escape(peer)}: its time / '
                   'ours (above 1: ours is faster)</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("results", help="a bench.py results.json")
    parser.add_argument("-o", "--out", required=True, help="the SVG to write")
    parser.add_argument("--title", default="")
    args = parser.parse_args()
    with open(args.results) as f:
        data = json.load(f)
    rows = ratios(data["results"])
    if not rows:
        print(f"{args.results}: no case where ours passed", file=sys.stderr)
        return 1
    env = data.get("environment", {})
    title = args.title or f"ours vs peers, {env.get('gpu', 'GPU')}, {env.get('date', '')[:10]}"
    with open(args.out, "w") as f:
        f.write(svg(rows, title))
    return 0


if __name__ == "__main__":
    sys.exit(main())
