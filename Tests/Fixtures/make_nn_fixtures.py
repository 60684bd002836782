#!/usr/bin/env python3
"""Writes nn.json: PyTorch's numbers for TesselNN's layers, losses and optimizers.

Run once with Debian's python3-torch (`apt-get install python3-torch libopenblas0-pthread`):

    LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-pthread /usr/bin/python3 Tests/Fixtures/make_nn_fixtures.py

The JSON lands next to this script and is committed; CI only reads it. Inputs are float32;
every parameter is given to both sides, so no random stream has to match.
"""
import json
import os

import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
torch.manual_seed(20261201)


def enc(t):
    t = t.detach().to(torch.float64) if t.dtype.is_floating_point else t.detach()
    return {"shape": list(t.shape), "values": t.reshape(-1).tolist()}


def main():
    out = {}
    # A Sequential MLP: names, forward, cross-entropy and its gradients.
    model = torch.nn.Sequential(torch.nn.Linear(5, 4), torch.nn.ReLU(), torch.nn.Linear(4, 3))
    x = torch.randn(6, 5)
    labels = torch.tensor([0, 2, 1, 2, 0, 1])
    logits = model(x)
    loss = F.cross_entropy(logits, labels)
    loss.backward()
    out["mlp"] = {
        "names": list(model.state_dict().keys()),
        "parameters": {k: enc(v) for k, v in model.state_dict().items()},
        "x": enc(x), "labels": enc(labels.to(torch.int32)), "logits": enc(logits), "loss": enc(loss),
        "grads": {name: enc(p.grad) for name, p in model.named_parameters()},
    }
    # Losses on fixed logits.
    z = torch.randn(4, 5, requires_grad=True)
    target_classes = torch.tensor([1, 0, 4, 4])
    probabilities = torch.rand(4, 5) * 0.98 + 0.01
    binary = (torch.rand(4, 5) > 0.5).to(torch.float32)
    regression = torch.randn(4, 5)
    smoothed = F.cross_entropy(z, target_classes, label_smoothing=0.1)
    smoothed.backward()
    out["losses"] = {
        "logits": enc(z), "labels": enc(target_classes.to(torch.int32)), "probabilities": enc(probabilities),
        "binary": enc(binary), "regression": enc(regression),
        "cross_entropy": enc(F.cross_entropy(z, target_classes)),
        "cross_entropy_smoothed": enc(smoothed), "cross_entropy_smoothed_grad": enc(z.grad),
        "nll": enc(F.nll_loss(F.log_softmax(z, dim=-1), target_classes)),
        "mse": enc(F.mse_loss(z, regression)), "l1": enc(F.l1_loss(z, regression)),
        "bce": enc(F.binary_cross_entropy(probabilities, binary)),
        "bce_logits": enc(F.binary_cross_entropy_with_logits(z, binary)),
    }
    # Optimizers: five steps on sum(scale * (p - c)^2) from the same start.
    start = torch.tensor([1.0, -2.0, 0.5])
    centre = torch.tensor([0.3, 0.4, -0.5])
    scale = torch.tensor([1.0, 3.0, 0.5])
    runs = {
        "sgd": lambda p: torch.optim.SGD([p], lr=0.1),
        "sgd_momentum": lambda p: torch.optim.SGD([p], lr=0.1, momentum=0.9),
        "sgd_nesterov_decay": lambda p: torch.optim.SGD([p], lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.01),
        "adam": lambda p: torch.optim.Adam([p], lr=0.1),
        "adam_decay": lambda p: torch.optim.Adam([p], lr=0.1, weight_decay=0.1),
        "adamw": lambda p: torch.optim.AdamW([p], lr=0.1, weight_decay=0.1),
    }
    out["optimizers"] = {"start": enc(start), "centre": enc(centre), "scale": enc(scale)}
    for name, make in runs.items():
        p = start.clone().requires_grad_(True)
        optimizer = make(p)
        trajectory = []
        for _ in range(5):
            optimizer.zero_grad()
            (scale * (p - centre) ** 2).sum().backward()
            optimizer.step()
            trajectory.append(p.detach().clone())
        out["optimizers"][name] = enc(torch.stack(trajectory))
    # Batch norm: two training batches (running statistics), then evaluation; 2d and 1d.
    norms = {}
    for name, layer, shape in [("bn2d", torch.nn.BatchNorm2d(3), (4, 3, 2, 5)), ("bn1d", torch.nn.BatchNorm1d(4), (6, 4))]:
        with torch.no_grad():
            layer.weight.copy_(torch.rand(layer.weight.shape) + 0.5)
            layer.bias.copy_(torch.randn(layer.bias.shape))
        first, second = torch.randn(*shape), torch.randn(*shape) * 2 + 1
        weight, bias = layer.weight.detach().clone(), layer.bias.detach().clone()
        layer.train()
        y1 = layer(first)
        (y1 * torch.arange(y1.numel()).reshape(y1.shape).sin()).sum().backward()
        layer(second)
        layer.eval()
        norms[name] = {"weight": enc(weight), "bias": enc(bias), "first": enc(first), "second": enc(second),
                       "train_output": enc(y1), "weight_grad": enc(layer.weight.grad), "bias_grad": enc(layer.bias.grad),
                       "running_mean": enc(layer.running_mean), "running_var": enc(layer.running_var),
                       "eval_output": enc(layer(first))}
    out["batchnorm"] = norms
    # Schedules over 20 steps.
    def rates(make, steps=20):
        p = torch.zeros(1, requires_grad=True)
        optimizer = torch.optim.SGD([p], lr=0.5, momentum=0.9)
        scheduler = make(optimizer)
        lrs, momenta = [], []
        for _ in range(steps):
            lrs.append(optimizer.param_groups[0]["lr"])
            momenta.append(optimizer.param_groups[0]["momentum"])
            optimizer.step()
            scheduler.step()
        return {"lr": enc(torch.tensor(lrs, dtype=torch.float64)), "momentum": enc(torch.tensor(momenta, dtype=torch.float64))}
    out["schedules"] = {
        "step": rates(lambda o: torch.optim.lr_scheduler.StepLR(o, step_size=6, gamma=0.5)),
        "cosine": rates(lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=20, eta_min=0.01)),
        "one_cycle": rates(lambda o: torch.optim.lr_scheduler.OneCycleLR(o, max_lr=0.5, total_steps=20, pct_start=0.25)),
    }
    # Convolutions and pools: forward and gradients of sum(out * sin(arange)).
    def weighted(y):
        return (y * torch.arange(y.numel(), dtype=torch.float32).reshape(y.shape).sin()).sum()
    convs = []
    for (cin, cout, k, stride, padding, dilation, hw) in [(2, 3, 3, 1, 0, 1, 7), (3, 4, 3, 2, 1, 1, 8), (1, 2, 2, 1, 2, 2, 6)]:
        layer = torch.nn.Conv2d(cin, cout, k, stride=stride, padding=padding, dilation=dilation)
        x = torch.randn(2, cin, hw, hw, requires_grad=True)
        y = layer(x)
        weighted(y).backward()
        convs.append({"config": [cin, cout, k, stride, padding, dilation], "weight": enc(layer.weight), "bias": enc(layer.bias),
                      "x": enc(x), "y": enc(y), "x_grad": enc(x.grad), "weight_grad": enc(layer.weight.grad),
                      "bias_grad": enc(layer.bias.grad)})
    pools = []
    for kind, k, stride, padding in [("max", 2, 2, 0), ("max", 3, 2, 1), ("avg", 2, 2, 0), ("avg", 3, 1, 1)]:
        x = torch.randn(2, 3, 7, 7, requires_grad=True)
        pool = (torch.nn.MaxPool2d if kind == "max" else torch.nn.AvgPool2d)(k, stride=stride, padding=padding)
        y = pool(x)
        weighted(y).backward()
        pools.append({"kind": kind, "config": [k, stride, padding], "x": enc(x), "y": enc(y), "x_grad": enc(x.grad)})
    out["convolutions"] = convs
    out["pools"] = pools
    path = os.path.join(HERE, "nn.json")
    with open(path, "w") as f:
        json.dump(out, f, separators=(",", ":"))
    print(f"wrote {path} ({os.path.getsize(path)} bytes)")


if __name__ == "__main__":
    main()
