"""Draw the pictures of the pump's seal replacement procedure (run by hand when they change).

    .venv/bin/python resources/machines/procedure_images.py

Line drawings, as a maintenance manual has them: the run-out check with a dial gauge on
the shaft sleeve, and the seal cartridge's parts.
"""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib import patches  # noqa: E402

OUT = Path(__file__).parent / "pump" / "procedures" / "images"
STEEL, SEAL, INK = "#b8c2cc", "#e0a040", "#1d2330"


def _figure():
    fig, ax = plt.subplots(figsize=(4.8, 3.0), dpi=100)
    ax.set_xlim(0, 10)
    ax.set_ylim(0, 6.25)
    ax.set_aspect("equal")
    ax.axis("off")
    return fig, ax


def runout() -> None:
    fig, ax = _figure()
    ax.add_patch(patches.Rectangle((0.5, 2.4), 9, 1.2, fc=STEEL, ec=INK, lw=1.5))  # shaft
    ax.add_patch(patches.Rectangle((5.8, 2.15), 2.2, 1.7, fc=SEAL, ec=INK, lw=1.5))  # seal cartridge
    ax.text(6.9, 1.7, "seal", ha="center", fontsize=9)
    ax.add_patch(patches.Circle((4.2, 5.0), 0.8, fc="white", ec=INK, lw=1.5))  # dial
    ax.plot([4.2, 4.2], [4.2, 3.6], color=INK, lw=2)  # plunger on the sleeve
    ax.annotate("", xy=(4.75, 5.35), xytext=(4.2, 5.0), arrowprops={"arrowstyle": "-|>", "color": "#b3261e"})
    ax.text(5.2, 5.1, "dial gauge on the sleeve,\n10 mm from the seal", fontsize=9, va="center")
    ax.annotate("", xy=(1.6, 1.2), xytext=(0.6, 1.2),
                arrowprops={"arrowstyle": "-|>", "connectionstyle": "arc3,rad=-0.6", "color": INK})
    ax.text(1.9, 0.9, "turn the shaft by hand, one full turn:\nrun-out = highest − lowest reading ≤ 0.05 mm",
            fontsize=9)
    fig.savefig(OUT / "runout.png", bbox_inches="tight", facecolor="white")
    plt.close(fig)


def cartridge() -> None:
    fig, ax = _figure()
    ax.add_patch(patches.Rectangle((0.5, 2.6), 9, 0.8, fc=STEEL, ec=INK, lw=1.5))  # shaft
    pieces = [(2.0, "sleeve", STEEL), (3.6, "rotating face", SEAL), (5.0, "stationary face", SEAL),
              (6.4, "gland plate", STEEL)]
    for x, name, colour in pieces:
        ax.add_patch(patches.Rectangle((x, 1.8), 1.2, 2.4, fc=colour, ec=INK, lw=1.5))
        ax.text(x + 0.6, 4.6 if pieces.index((x, name, colour)) % 2 else 1.2, name, ha="center", fontsize=9)
    ax.text(5.0, 5.6, "Fit the cartridge as one piece; remove the setting clips last", ha="center", fontsize=9,
            color="#b3261e")
    fig.savefig(OUT / "seal_cartridge.png", bbox_inches="tight", facecolor="white")
    plt.close(fig)


if __name__ == "__main__":
    OUT.mkdir(parents=True, exist_ok=True)
    runout()
    cartridge()
