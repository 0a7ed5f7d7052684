"""Plot a training log (log.csv of jpegai_fast.training.train) to a PNG: loss, PSNR and bpp vs step.

Usage: python scripts/plot_training.py runs/light/log.csv docs/training_loss.png ["figure title"]
"""
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402


def main(log_path: str, png_path: str, title: str = "training log: the curves mix all rates (t is drawn per batch)") -> None:
    data = np.genfromtxt(log_path, delimiter=",", names=True)
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.6))
    for ax, key, label in zip(axes, ("loss", "psnr", "bpp"),
                              ("loss = lambda*255^2*MSE + bpp", "PSNR of the batch (dB)", "bpp (estimated)")):
        ax.plot(data["step"], data[key], lw=0.6, alpha=0.5, label="per log interval")
        k = 10
        if len(data) > k:
            smooth = np.convolve(data[key], np.ones(k) / k, mode="valid")
            ax.plot(data["step"][k - 1:], smooth, lw=1.5, label=f"moving mean of {k}")
        ax.set_xlabel("step")
        ax.set_title(label, fontsize=10)
        ax.grid(alpha=0.3)
    axes[0].set_yscale("log")
    axes[0].legend(fontsize=8)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(png_path, dpi=110)


if __name__ == "__main__":
    main(*sys.argv[1:4])
