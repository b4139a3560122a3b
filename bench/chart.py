"""bench/out/results.json → bench/RESULTS.png: added latency at c=1 and req/s at 64 connections, per system."""

from __future__ import annotations

import json
import statistics
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

BENCH = Path(__file__).resolve().parent
COLORS = {"direct": "#9e9e9e", "gateway": "#1565c0", "litellm": "#e65100"}


def main() -> int:
    results = json.loads((BENCH / "out" / "results.json").read_text())
    points = results["points"]
    scenarios = list(dict.fromkeys(p["scenario"] for p in points))
    systems = [s for s in ("direct", "gateway", "litellm") if any(p["system"] == s for p in points)]

    def stat(scenario: str, system: str, conns: int, key: str) -> tuple[float, float, float]:
        v = [p[key] for p in points if p["scenario"] == scenario and p["system"] == system and p["conns"] == conns
             and p["requests"]]
        return (statistics.median(v), min(v), max(v)) if v else (float("nan"),) * 3

    fig, axes = plt.subplots(1, 3, figsize=(18, 5.5))
    width = 0.8 / len(systems)
    x = range(len(scenarios))
    for i, system in enumerate(systems):
        offs = [xi + (i - (len(systems) - 1) / 2) * width for xi in x]
        for ax, conns, key, title in [
            (axes[0], 1, "p50_ms", "p50 latency at concurrency 1 (ms, log)"),
            (axes[1], 64, "rps", "throughput at 64 connections (req/s, log)"),
        ]:
            med, lo, hi = zip(*(stat(s, system, conns, key) for s in scenarios), strict=True)
            err = [[m - low for m, low in zip(med, lo, strict=True)], [h - m for m, h in zip(med, hi, strict=True)]]
            ax.bar(offs, med, width, yerr=err, capsize=2, label=system, color=COLORS[system])
            ax.set_title(title)
            ax.set_yscale("log")
        if system != "direct":
            conns = sorted({p["conns"] for p in points})
            rps = [stat("responses_small", system, c, "rps")[0] for c in conns]
            axes[2].plot(conns, rps, marker="o", label=system, color=COLORS[system])
    for ax in axes[:2]:
        ax.set_xticks(list(x))
        ax.set_xticklabels(scenarios, rotation=25, ha="right")
        ax.legend()
    axes[2].set_title("responses_small: req/s by connections (one process)")
    axes[2].set_xscale("log", base=2)
    axes[2].set_xlabel("connections")
    axes[2].legend()
    fig.suptitle("azure-openai-gateway vs LiteLLM vs direct call to the stub (median; bars: min–max)")
    fig.tight_layout()
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else BENCH / "RESULTS.png"
    fig.savefig(target, dpi=110)
    print(f"wrote {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
