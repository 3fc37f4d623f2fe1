#!/usr/bin/env python3
"""Reference for `xraysynth bench classifier-train`: torchvision's DenseNet-169 training steps in PyTorch eager.

Same work as the XraySynth bench: 1-channel input (conv0 with one input channel), one logit, BCE-with-logits loss,
Adam lr 1e-4, fp32 (PyTorch's defaults for TF32: cuDNN convolutions may use TF32, matmuls do not -- the same flags
libtorch defaults to inside XraySynth), random images of 224x224, one warm-up step then N timed steps with one
synchronisation at the end. Prints one JSON object. XraySynth's step also runs its augmentation (flip/affine) on the
device, so this reference does slightly less work.
"""
import argparse, json, time

import torch
import torchvision


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--size", type=int, default=224)
    ap.add_argument("--steps", type=int, default=10)
    a = ap.parse_args()
    dev = torch.device(a.device)
    torch.manual_seed(0)
    model = torchvision.models.densenet169(num_classes=1)
    model.features.conv0 = torch.nn.Conv2d(1, 64, kernel_size=7, stride=2, padding=3, bias=False)
    model.to(dev).train()
    opt = torch.optim.Adam(model.parameters(), lr=1e-4)
    x = torch.rand(a.batch, 1, a.size, a.size, device=dev)
    y = (torch.rand(a.batch, device=dev) > 0.5).float()

    def step():
        opt.zero_grad(set_to_none=True)
        loss = torch.nn.functional.binary_cross_entropy_with_logits(model(x).squeeze(1), y)
        loss.backward()
        opt.step()
        return loss

    step().item()  # warm-up
    if dev.type == "cuda":
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    t = time.perf_counter()
    for i in range(a.steps):
        loss = step()
    loss.item()
    seconds = time.perf_counter() - t
    print(json.dumps({
        "work": "classifier-train (torchvision reference)", "device": dev.type, "torch": torch.__version__,
        "setup": f"DenseNet-169 {a.size}px, batch {a.batch}, fp32, fwd+bwd+Adam",
        "images": a.batch * a.steps, "seconds": seconds, "images_per_second": a.batch * a.steps / seconds,
        "peak_allocated_mb": torch.cuda.max_memory_allocated() / 1e6 if dev.type == "cuda" else None,
    }))


if __name__ == "__main__":
    main()
