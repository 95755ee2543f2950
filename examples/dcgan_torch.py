"""Train a DCGAN generator for a few steps with deconv_core inside PyTorch.

    python examples/dcgan_torch.py [--steps 5] [--batch 64]

The generator of Radford et al. (ConvTranspose2d 100 -> 512 -> 256 -> 128 -> 64 -> 3,
4x4 kernels, BatchNorm and ReLU, a 64x64 RGB output) is built once in plain PyTorch;
a copy is converted with ``deconv_core.torch.convert`` (same weights, its transposed
convolutions now computed by deconv_core). Both are trained for a few SGD steps to
fit a fixed batch of targets; the script prints each step's loss (the two models agree
to rounding) and the median time per step of each.
"""
import argparse
import copy
import time

import torch
from torch import nn

import deconv_core.torch as dct


def generator(latent=100, width=64, channels=3):
    """The DCGAN generator: (N, latent, 1, 1) -> (N, channels, 64, 64)."""
    layers, c_in = [], latent
    for i, c_out in enumerate((width * 8, width * 4, width * 2, width)):
        layers += [nn.ConvTranspose2d(c_in, c_out, 4, 1 if i == 0 else 2, 0 if i == 0 else 1,
                                      bias=False),
                   nn.BatchNorm2d(c_out), nn.ReLU(True)]
        c_in = c_out
    layers += [nn.ConvTranspose2d(c_in, channels, 4, 2, 1, bias=False), nn.Tanh()]
    return nn.Sequential(*layers)


def train_step(model, opt, z, target):
    opt.zero_grad()
    loss = nn.functional.mse_loss(model(z), target)
    loss.backward()
    opt.step()
    return loss.item()


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--batch", type=int, default=64)
    args = ap.parse_args(argv)
    torch.manual_seed(0)
    plain = generator()
    converted = dct.convert(copy.deepcopy(plain))
    z = torch.randn(args.batch, 100, 1, 1)
    target = torch.rand(args.batch, 3, 64, 64) * 2 - 1
    times = {"plain PyTorch": [], "deconv_core": []}
    models = {"plain PyTorch": plain, "deconv_core": converted}
    opts = {k: torch.optim.SGD(m.parameters(), lr=0.01, momentum=0.9) for k, m in models.items()}
    print(f"step  {'loss (plain PyTorch)':>22s}  {'loss (deconv_core)':>20s}")
    for step in range(args.steps):
        losses = {}
        for name, model in models.items():
            t0 = time.perf_counter()
            losses[name] = train_step(model, opts[name], z, target)
            times[name].append(time.perf_counter() - t0)
        print(f"{step:4d}  {losses['plain PyTorch']:22.6f}  {losses['deconv_core']:20.6f}")
    med = {k: sorted(v)[len(v) // 2] for k, v in times.items()}
    print(f"median time per training step: plain PyTorch {med['plain PyTorch'] * 1e3:.1f} ms, "
          f"deconv_core {med['deconv_core'] * 1e3:.1f} ms "
          f"({med['plain PyTorch'] / med['deconv_core']:.2f}x)")


if __name__ == "__main__":
    main()
