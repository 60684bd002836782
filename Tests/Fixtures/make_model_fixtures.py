#!/usr/bin/env python3
"""Model-file fixtures that tie Tessel's .safetensors files to PyTorch, both directions.

1. Tessel -> PyTorch: `models/tessel-cnn.safetensors` was written by
       tessel train --model cnn --epochs 1 --seed 1 --out Tests/Fixtures/models/tessel-cnn.safetensors
   This script loads it into the same architecture built as a PyTorch nn.Sequential with
   load_state_dict(strict=True) and records PyTorch's predictions on the MNIST test set.
2. PyTorch -> Tessel: trains a 784-32-10 MLP in PyTorch for one epoch, saves its state dict
   with safetensors (plus the metadata Tessel reads) as `models/pytorch-mlp.safetensors`, and
   records its test accuracy and predictions.

Both records go to `models/models.json`; TesselDataTests load the same files and must agree.
Run once from the repository root with Debian's python3-torch and safetensors from PyPI:

    pip install --target /tmp/pylib safetensors
    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE PYTHONPATH=/tmp/pylib \
        LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-pthread /usr/bin/python3 Tests/Fixtures/make_model_fixtures.py
"""
import gzip
import json
from pathlib import Path

import numpy as np
import torch
from safetensors import safe_open
from safetensors.torch import load_file, save_file

HERE = Path(__file__).resolve().parent / "models"
DATA = Path("Data/mnist")
torch.manual_seed(20261201)
torch.set_num_threads(1)


def idx(name):
    raw = gzip.open(DATA / f"{name}.gz").read()
    rank = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(rank)]
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * rank).reshape(dims)


def inputs(images, mean, std):
    x = torch.from_numpy(images.astype(np.float32) / 255).unsqueeze(1)
    return (x - mean) / std


def cnn(classes):
    nn = torch.nn
    return nn.Sequential(nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Flatten(), nn.Linear(1600, classes))


def predict(model, x):
    with torch.no_grad():
        return torch.cat([model(x[i:i + 1000]).softmax(-1) for i in range(0, len(x), 1000)])


def main():
    test_x, test_y = idx("t10k-images-idx3-ubyte"), torch.from_numpy(idx("t10k-labels-idx1-ubyte").astype(np.int64))
    out = {}

    # 1. A Tessel file in PyTorch.
    path = HERE / "tessel-cnn.safetensors"
    with safe_open(str(path), framework="pt") as f:
        meta = f.metadata()
    model = cnn(len(json.loads(meta["tessel.classes"])))
    model.load_state_dict(load_file(str(path)), strict=True)
    model.eval()
    p = predict(model, inputs(test_x, float(meta["tessel.normalize.mean"]), float(meta["tessel.normalize.std"])))
    out["tessel_cnn_in_pytorch"] = {
        "accuracy": (p.argmax(1) == test_y).double().mean().item(),
        "predictions": p.argmax(1).tolist(),
        "probabilities_first_10": p[:10].double().tolist(),
    }

    # 2. A PyTorch-trained MLP for Tessel.
    mean, std = 0.1307, 0.3081
    train_x = inputs(idx("train-images-idx3-ubyte"), mean, std)
    train_y = torch.from_numpy(idx("train-labels-idx1-ubyte").astype(np.int64))
    nn = torch.nn
    mlp = nn.Sequential(nn.Flatten(), nn.Linear(784, 32), nn.ReLU(), nn.Linear(32, 10))
    optimizer = torch.optim.SGD(mlp.parameters(), lr=0.05, momentum=0.9)
    order = torch.randperm(len(train_x))
    for start in range(0, len(order), 128):
        batch = order[start:start + 128]
        loss = nn.functional.cross_entropy(mlp(train_x[batch]), train_y[batch])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    mlp.eval()
    metadata = {"format": "pt", "tessel.architecture": "mlp", "tessel.hidden": "32",
                "tessel.classes": json.dumps([str(c) for c in range(10)]), "tessel.input_shape": "1,28,28",
                "tessel.normalize.mean": str(mean), "tessel.normalize.std": str(std)}
    save_file({k: v.contiguous() for k, v in mlp.state_dict().items()}, str(HERE / "pytorch-mlp.safetensors"), metadata=metadata)
    p = predict(mlp, inputs(test_x, mean, std))
    out["pytorch_mlp"] = {
        "accuracy": (p.argmax(1) == test_y).double().mean().item(),
        "predictions": p.argmax(1).tolist(),
        "probabilities_first_10": p[:10].double().tolist(),
    }
    (HERE / "models.json").write_text(json.dumps(out))
    print({k: v["accuracy"] for k, v in out.items()})


if __name__ == "__main__":
    main()
