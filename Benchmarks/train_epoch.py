#!/usr/bin/env python3
"""Seconds per MNIST training epoch: Tessel against PyTorch (CPU) and tinygrad, in one run.

The same epoch everywhere: 60,000 images already in memory and normalised, batch 128 (469
steps), SGD with momentum 0.9 at a constant rate 0.01, cross-entropy; the 784-100-10 MLP and
the small CNN (conv 1->32 3x3, ReLU, max-pool 2, conv 32->64 3x3, ReLU, max-pool 2, linear
1600->10). Each side runs two epochs and reports the faster (the first pays start-up: kernel
builds, caches). Tessel runs `tessel train --json` on each device; PyTorch is Debian's
python3-torch 1.13 eager at Tessel's thread count (and on one thread for the MLP, with
TESSEL_CPU_THREADS=1 for Tessel); tinygrad (pip) runs the MLP under TinyJit on its CPU and CL
devices, drawing each batch inside the jitted step as its MNIST example does.

    python3 Benchmarks/train_epoch.py [--models mlp,cnn] [--device all]

Needs `make build`; PyTorch: `apt-get install python3-torch libopenblas0-pthread`; tinygrad:
`pip install tinygrad` (or a folder on PYTHONPATH, `--tinygrad-path`).
"""
import argparse, gzip, json, os, subprocess, sys, tempfile, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TESSEL = os.path.join(ROOT, ".build", "release", "tessel")
EPOCHS, BATCH, LR = 2, 128, 0.01


def mnist_train():
    import numpy as np
    def idx(name):
        raw = gzip.open(os.path.join(ROOT, "Data", "mnist", name + ".gz")).read()
        rank = raw[3]
        dims = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(rank)]
        return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * rank).reshape(dims)
    x = (idx("train-images-idx3-ubyte").astype(np.float32) / 255 - 0.1307) / 0.3081
    return x.reshape(-1, 1, 28, 28), idx("train-labels-idx1-ubyte").astype(np.int64)


def torch_worker(args):
    import torch
    torch.set_num_threads(args.threads)
    nn = torch.nn
    x, y = mnist_train()
    x, y = torch.from_numpy(x), torch.from_numpy(y)
    make = {"mlp": lambda: nn.Sequential(nn.Flatten(), nn.Linear(784, 100), nn.ReLU(), nn.Linear(100, 10)),
            "cnn": lambda: nn.Sequential(nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(32, 64, 3), nn.ReLU(),
                                         nn.MaxPool2d(2), nn.Flatten(), nn.Linear(1600, 10))}[args.model]
    model = make()
    optimizer = torch.optim.SGD(model.parameters(), lr=LR, momentum=0.9)
    times = []
    for _ in range(EPOCHS):
        start = time.perf_counter()
        order = torch.randperm(len(x))
        for begin in range(0, len(x), BATCH):
            batch = order[begin:begin + BATCH]
            loss = nn.functional.cross_entropy(model(x[batch]), y[batch])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        times.append(time.perf_counter() - start)
    print(json.dumps({"seconds": min(times), "version": torch.__version__}))


def tinygrad_worker(args):
    os.environ["DEV"] = args.tinygrad_device
    os.environ["TRAINING"] = "1"
    from tinygrad import Tensor, TinyJit, nn
    import importlib.metadata
    x, y = mnist_train()
    X, Y = Tensor(x.reshape(-1, 784)), Tensor(y.astype("int32"))

    class MLP:
        def __init__(self):
            self.l1, self.l2 = nn.Linear(784, 100), nn.Linear(100, 10)
        def __call__(self, x):
            return self.l2(self.l1(x).relu())
    model = MLP()
    optimizer = nn.optim.SGD(nn.state.get_parameters(model), lr=LR, momentum=0.9)

    @TinyJit
    def step():
        samples = Tensor.randint(BATCH, high=X.shape[0])
        optimizer.zero_grad()
        loss = model(X[samples]).sparse_categorical_crossentropy(Y[samples]).backward()
        optimizer.step()
        return loss
    times = []
    for _ in range(EPOCHS):
        start = time.perf_counter()
        for _ in range((len(x) + BATCH - 1) // BATCH):
            loss = step()
        loss.item()
        times.append(time.perf_counter() - start)
    print(json.dumps({"seconds": min(times), "version": importlib.metadata.version("tinygrad")}))


def child(command, env):
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        print(f"train_epoch.py: {' '.join(command[:4])} failed:\n{done.stderr[-2000:]}", file=sys.stderr)
        return None
    return json.loads(done.stdout.strip().splitlines()[-1])


def tessel_epoch(model, device, threads):
    with tempfile.TemporaryDirectory() as folder:
        env = dict(os.environ, TESSEL_CPU_THREADS=str(threads))
        command = [TESSEL, "train", "--model", model, "--epochs", str(EPOCHS), "--optimizer", "sgd", "--schedule", "constant",
                   "--lr", str(LR), "--batch-size", str(BATCH), "--device", device,
                   "--out", os.path.join(folder, "m.safetensors"), "--json", os.path.join(folder, "e.json")]
        done = subprocess.run(command, env=env, capture_output=True, text=True)
        if done.returncode != 0:
            sys.exit(f"tessel train failed:\n{done.stdout}{done.stderr}")
        with open(os.path.join(folder, "e.json")) as f:
            return min(record["train_seconds"] for record in json.load(f))


def torch_epoch(model, threads):
    env = dict(os.environ, LD_LIBRARY_PATH="/usr/lib/x86_64-linux-gnu/openblas-pthread", OMP_NUM_THREADS=str(threads))
    for key in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "PYTHONPATH"):
        env.pop(key, None)
    return child(["/usr/bin/python3", __file__, "--torch-worker", "--model", model, "--threads", str(threads)], env)


def tinygrad_epoch(device, path):
    env = dict(os.environ)
    if path:
        env["PYTHONPATH"] = path
    return child([sys.executable, __file__, "--tinygrad-worker", "--tinygrad-device", device], env)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", default="mlp,cnn")
    parser.add_argument("--device", default="all", help="Tessel devices: all, or a comma-separated list")
    parser.add_argument("--tinygrad-path", default=None, help="a folder holding tinygrad, put on PYTHONPATH")
    parser.add_argument("--torch-worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--tinygrad-worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--model", default="mlp", help=argparse.SUPPRESS)
    parser.add_argument("--tinygrad-device", default="CPU", help=argparse.SUPPRESS)
    parser.add_argument("--threads", type=int, default=int(os.environ.get("TESSEL_CPU_THREADS", os.cpu_count())))
    args = parser.parse_args()
    if args.torch_worker:
        return torch_worker(args)
    if args.tinygrad_worker:
        return tinygrad_worker(args)

    listed = subprocess.run([TESSEL, "devices"], capture_output=True, text=True).stdout
    devices = [line.split()[0] for line in listed.splitlines() if line and not line.startswith(" ")]
    if args.device != "all":
        devices = args.device.split(",")
    rows = []
    for model in args.models.split(","):
        thread_counts = [args.threads, 1] if model == "mlp" and args.threads != 1 else [args.threads]
        for threads in thread_counts:
            reference = torch_epoch(model, threads)
            for device in devices if threads == args.threads else ["cpu"]:
                seconds = tessel_epoch(model, device, threads)
                ratio = f"{seconds / reference['seconds']:.2f}x" if reference and device == "cpu" else ""
                label = f"{threads} thread{'s' if threads > 1 else ''}" if device == "cpu" else "-"
                rows.append((model, device, label, seconds, "PyTorch " + (reference["version"] if reference else "-"),
                             reference["seconds"] if reference else None, ratio))
        if model == "mlp":
            for device in ["CPU", "CL"]:
                result = tinygrad_epoch(device, args.tinygrad_path)
                if result is None:
                    continue
                tessel_device = "cpu" if device == "CPU" else next((d for d in devices if d.startswith("opencl")), None)
                if tessel_device is None:
                    continue
                seconds = next(row[3] for row in rows if row[0] == "mlp" and row[1] == tessel_device)
                rows.append(("mlp", tessel_device, "-", seconds, f"tinygrad {result['version']} {device}", result["seconds"],
                             f"{seconds / result['seconds']:.2f}x"))
    print(f"{'model':6} {'tessel device':14} {'threads':10} {'tessel s/epoch':>15}   {'reference':24} {'ref s/epoch':>12}   time ratio")
    for model, device, threads, seconds, name, reference, ratio in rows:
        shown = f"{reference:12.3f}" if reference is not None else f"{'-':>12}"
        print(f"{model:6} {device:14} {threads:10} {seconds:15.3f}   {name:24} {shown}   {ratio}")
    print("time ratio: Tessel's seconds over the reference's (< 1 means Tessel is faster)")


if __name__ == "__main__":
    main()
