#!/usr/bin/env python3
"""Tessel against reference libraries, side by side in one run.

Runs `tessel bench --json`, then the same shapes through NumPy (OpenBLAS) for the CPU backend
and CLBlast (Debian's libclblast-dev, through clblast_sgemm.c) for each OpenCL device, and
prints Tessel's speed over the reference's for each row (> 1 means Tessel is faster). The
`overhead` family (small ops timed per call) compares the CPU backend with PyTorch's eager CPU
API on one thread (Debian's python3-torch), the reference the issue tracker names. Where
Benchmarks/clblast-tuning/ holds a tuning for that device (written by tune_clblast.py),
CLBlast also runs with those tuned Xgemm parameters, in a second pair of columns.

    python3 Benchmarks/compare.py [--device all] [--ops gemm,add,...] [--sizes 1024,2048] [--elements N,...]

Needs a release build with the SIMD flags (`make build`). NumPy runs in a child process with
OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset (they force a slower kernel on these machines)
and with as many threads as the CPU backend uses (TESSEL_CPU_THREADS sets both).
"""
import argparse, glob, json, os, subprocess, sys, tempfile, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TESSEL = os.path.join(ROOT, ".build", "release", "tessel")


def numpy_cases(families, gemm_shapes, counts):
    """(family, shape label, setup) triples named exactly as `tessel bench` names its rows."""
    import numpy as np
    rng = np.random.default_rng(1)
    f32 = lambda *shape: rng.random(shape, dtype=np.float32)
    def matrix(count):
        return max(count // 1024, 1), min(count, 1024)
    def softmax(x):
        e = np.exp(x - x.max(axis=-1, keepdims=True))
        return e / e.sum(axis=-1, keepdims=True)
    cases = []
    for family in families:
        if family == "gemm":
            for m, k, n in gemm_shapes:
                a, b = f32(m, k), f32(k, n)
                cases.append((family, f"{m}x{k}x{n}", lambda a=a, b=b: a @ b))
        for count in counts if family != "gemm" else []:
            rows, cols = matrix(count)
            if family == "unary":
                x = f32(count); cases.append((family, f"exp {count}", lambda x=x: np.exp(x)))
            elif family == "add":
                a, b = f32(count), f32(count); cases.append((family, f"{count}", lambda a=a, b=b: a + b))
            elif family == "broadcast":
                a, row, col = f32(rows, cols), f32(cols), f32(rows, 1)
                cases.append((family, f"[{rows},{cols}]+[{cols}]", lambda a=a, r=row: a + r))
                cases.append((family, f"[{rows},{cols}]+[{rows},1]", lambda a=a, c=col: a + c))
            elif family == "sum":
                x, m = f32(count), f32(rows, cols)
                cases.append((family, f"all of {count}", lambda x=x: x.sum()))
                cases.append((family, f"[{rows},{cols}] axis -1", lambda m=m: m.sum(axis=-1)))
                cases.append((family, f"[{rows},{cols}] axis 0", lambda m=m: m.sum(axis=0)))
            elif family == "transpose":
                m = f32(rows, cols); cases.append((family, f"[{rows},{cols}].T", lambda m=m: np.ascontiguousarray(m.T)))
            elif family == "softmax":
                m = f32(rows, cols); cases.append((family, f"[{rows},{cols}] rows", lambda m=m: softmax(m)))
    return cases


OVERHEAD_CALLS = 1000


def torch_worker(args):
    """Child process under /usr/bin/python3: PyTorch eager times of the overhead cases (one
    thread, seconds per call) and of the training steps (Tessel's thread count), printed as
    {"family|shape": seconds}."""
    import torch
    results = {}
    if "train-step" in args.families:
        torch.set_num_threads(args.threads)
        nn = torch.nn
        steps = [("mlp 784-100-10 batch 128", (128, 784), lambda: nn.Sequential(nn.Linear(784, 100), nn.ReLU(), nn.Linear(100, 10))),
                 ("cnn batch 128", (128, 1, 28, 28), lambda: nn.Sequential(
                     nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2),
                     nn.Flatten(), nn.Linear(1600, 10)))]
        for name, shape, make in steps:
            model = make()
            optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
            x, labels = torch.randn(*shape), torch.randint(0, 10, (shape[0],))
            def step(model=model, optimizer=optimizer, x=x, labels=labels):
                loss = torch.nn.functional.cross_entropy(model(x), labels)
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
            results[f"train-step|{name}"] = time_call(step, args.budget)
    if "overhead" not in args.families:
        print(json.dumps({"results": results, "info": {"torch": torch.__version__}}))
        return
    torch.set_num_threads(1)
    for shape in [(128, 100), (4,)]:
        label = ",".join(map(str, shape))
        a, b, row = torch.rand(shape), torch.rand(shape), torch.rand(shape[-1:])
        calls = [("add", lambda: a + b), ("mul scalar", lambda: a * 2), ("relu", lambda: torch.relu(a))]
        if len(shape) > 1:
            calls.append(("add broadcast", lambda: a + row))
        calls += [("sum", lambda: a.sum()), ("add inplace", lambda: a.add_(b))]
        for name, fn in calls:
            def loop(fn=fn):
                for _ in range(OVERHEAD_CALLS):
                    fn()
            results[f"overhead|{name} [{label}]"] = time_call(loop, args.budget) / OVERHEAD_CALLS
    print(json.dumps({"results": results, "info": {"torch": torch.__version__}}))


def run_torch(args):
    """PyTorch in Debian's python3 with the pthread OpenBLAS (the variables that slow it unset)."""
    env = dict(os.environ)
    for key in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
        env.pop(key, None)
    env["LD_LIBRARY_PATH"] = "/usr/lib/x86_64-linux-gnu/openblas-pthread"
    env["OMP_NUM_THREADS"] = str(args.threads)
    command = ["/usr/bin/python3", __file__, "--torch-worker", "--budget", str(args.budget), "--ops", ",".join(args.families),
               "--threads", str(args.threads)]
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit("compare.py: PyTorch did not run (`apt-get install python3-torch libopenblas0-pthread`):\n" + done.stderr)
    return json.loads(done.stdout)


def time_call(fn, budget):
    for _ in range(2):
        fn()
    times, start = [], time.perf_counter()
    while len(times) < 50 and (len(times) < 5 or time.perf_counter() - start < budget):
        t = time.perf_counter(); fn(); times.append(time.perf_counter() - t)
    times.sort()
    return times[len(times) // 2]


def numpy_worker(args):
    """Child process: time the NumPy cases and print {"family|shape": seconds} as JSON."""
    import numpy as np
    results = {}
    for family, shape, fn in numpy_cases(args.families, args.gemm_shapes, args.counts):
        results[f"{family}|{shape}"] = time_call(fn, args.budget)
    info = {"numpy": np.__version__}
    try:
        from threadpoolctl import threadpool_info
        info["blas"] = [{k: p.get(k) for k in ("internal_api", "num_threads", "architecture")} for p in threadpool_info()]
    except ImportError:
        info["blas"] = "threadpoolctl not installed"
    print(json.dumps({"results": results, "info": info}))


def run_numpy(args, threads):
    env = dict(os.environ)
    for key in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
        env.pop(key, None)
    env["OPENBLAS_NUM_THREADS"] = env["OMP_NUM_THREADS"] = str(threads)
    command = [sys.executable, __file__, "--numpy-worker", "--ops", ",".join(args.families),
               "--budget", str(args.budget), "--elements", ",".join(map(str, args.counts)),
               "--sizes", ",".join("x".join(map(str, s)) for s in args.gemm_shapes)]
    return json.loads(subprocess.run(command, env=env, check=True, capture_output=True, text=True).stdout)


def run_clblast(device_index, gemm_shapes, parameters=None):
    """CLBlast's SGEMM times by shape; `parameters` overrides its Xgemm kernel (tuned)."""
    binary = os.path.join(tempfile.gettempdir(), "tessel_clblast_sgemm")
    source = os.path.join(ROOT, "Benchmarks", "clblast_sgemm.c")
    build = subprocess.run(["cc", "-O2", "-o", binary, source, "-lclblast", "-lOpenCL"], capture_output=True, text=True)
    if build.returncode != 0:
        sys.exit(f"compare.py: could not build the CLBlast driver (is libclblast-dev installed? "
                 f"`make compare` installs it):\n{build.stderr}")
    shapes = [str(v) for shape in gemm_shapes for v in shape]
    override = ["-p", parameters] if parameters else []
    out = subprocess.run([binary] + override + [str(device_index)] + shapes, check=True, capture_output=True,
                         text=True).stdout
    return {f"gemm|{line.split()[0]}": float(line.split()[1]) / 1e3 for line in out.splitlines()}


def tuned_clblast(device_name):
    """The parameters Benchmarks/tune_clblast.py found for this device, if it was tuned here."""
    for path in sorted(glob.glob(os.path.join(ROOT, "Benchmarks", "clblast-tuning", "*.json"))):
        tuning = json.load(open(path))
        if tuning.get("device") == device_name:
            return tuning
    return None


def parse_shapes(text):
    shapes = []
    for item in text.split(","):
        parts = [int(p) for p in item.split("x")]
        shapes.append((parts[0],) * 3 if len(parts) == 1 else tuple(parts))
    return shapes


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="all")
    parser.add_argument("--ops", default="gemm,unary,add,broadcast,sum,softmax,transpose")
    parser.add_argument("--sizes", default="256,512,1024,2048,4096,128x784x128,128x128x10,784x128x128")
    parser.add_argument("--elements", default=f"{1 << 20},{1 << 24}")
    parser.add_argument("--budget", type=float, default=0.5)
    parser.add_argument("--rounds", type=int, default=3, help="repetitions of the whole comparison (median ratio)")
    parser.add_argument("--numpy-worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--torch-worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--threads", type=int, default=int(os.environ.get("TESSEL_CPU_THREADS", os.cpu_count())),
                        help=argparse.SUPPRESS)
    args = parser.parse_args()
    args.families = args.ops.split(",")
    args.gemm_shapes = parse_shapes(args.sizes)
    args.counts = [int(c) for c in args.elements.split(",")]
    if args.numpy_worker:
        return numpy_worker(args)
    if args.torch_worker:
        return torch_worker(args)

    def tessel_bench(check):
        with tempfile.NamedTemporaryFile(suffix=".json") as report_file:
            subprocess.run([TESSEL, "bench", "--device", args.device, "--ops", args.ops, "--sizes", args.sizes,
                            "--elements", args.elements, "--budget", str(args.budget), "--json", report_file.name]
                           + ([] if check else ["--no-check"]),
                           check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            return json.load(open(report_file.name))

    threads = int(os.environ.get("TESSEL_CPU_THREADS", os.cpu_count()))
    labels = {}

    def references(devices):
        """{device: [{key: seconds} per reference]} for one round."""
        found = {}
        for device in devices:
            name = device["device"]
            if name == "cpu":
                numpy = run_numpy(args, threads)
                found[name] = [numpy["results"]]
                labels[name] = (f"NumPy {numpy['info']['numpy']} ({threads} threads), BLAS: {numpy['info']['blas']}", [])
                if "overhead" in args.families or "train-step" in args.families:
                    torch = run_torch(args)
                    found[name][0].update(torch["results"])
                    labels[name] = (labels[name][0], [f"overhead: PyTorch {torch['info']['torch']} eager, 1 thread, per call; "
                                                      f"train-step: the same step in PyTorch, {threads} threads"])
            elif "gemm" in args.families:
                index = int(name.split(":")[1])
                found[name] = [run_clblast(index, args.gemm_shapes)]
                label, extra = "CLBlast (as shipped) for GEMM", []
                tuning = tuned_clblast(device["name"])
                if tuning:
                    found[name].append(run_clblast(index, args.gemm_shapes, tuning["parameters"]))
                    extra = [f"tuned: Xgemm {tuning['parameters']} (tune_clblast.py, {tuning['date']})"]
                labels[name] = (label, extra)
            else:
                found[name], labels[name] = [], ("none for these families", [])
        return found

    # Rounds alternate which side runs first, and each row reports the median of its per-round
    # ratios: these machines are shared, and contention drifts within a run.
    first = tessel_bench(check=True)
    rounds = [(first, references(first["devices"]))]
    for number in range(1, args.rounds):
        if number % 2:
            refs = references(first["devices"])
            rounds.append((tessel_bench(check=False), refs))
        else:
            report = tessel_bench(check=False)
            rounds.append((report, references(first["devices"])))

    def median(values):
        values = sorted(values)
        return values[len(values) // 2] if len(values) % 2 else (values[len(values) // 2 - 1] + values[len(values) // 2]) / 2

    print(f"Tessel vs references, {first['date']}, {args.rounds} rounds (ratio = reference time / Tessel time, "
          "median of the rounds' ratios [lowest-highest]; > 1: Tessel faster)")
    for position, device in enumerate(first["devices"]):
        name = device["device"]
        label, extra = labels[name]
        print(f"\n{name}: {device['name']}\n  reference: {label}" + "".join(f"\n  {e}" for e in extra))
        reference_count = len(rounds[0][1][name])
        header = f"  {'family':<10} {'shape':<30} {'Tessel ms':>10}"
        for title in ["ref", "tuned"][:reference_count]:
            header += f" {title + ' ms':>10} {'ratio':>17}"
        print(header + "  Tessel rate")
        for index, row in enumerate(device["rows"]):
            key = f"{row['family']}|{row['shape']}"
            # Overhead rows compare per-call wall time (a loop of calls, one synchronisation).
            per_call = row.get("microsecondsPerCall") is not None
            ours = [(r[0]["devices"][position]["rows"][index]["microsecondsPerCall"] * 1e-6 if per_call
                     else r[0]["devices"][position]["rows"][index]["medianSeconds"]) for r in rounds]
            rate_row = device["rows"][index]
            ours_median = median(ours)
            if per_call:
                rate = f"{ours_median * 1e6:.2f} us/call"
            else:
                scale = rate_row["medianSeconds"] / ours_median
                rate = (f"{rate_row['gflops'] * scale:.1f} GFLOP/s" if rate_row["computeBound"]
                        else f"{rate_row['gigabytesPerSecond'] * scale:.1f} GB/s")
            line = f"  {row['family']:<10} {row['shape']:<30} {ours_median * 1e3:10.3f}"
            for which in range(reference_count):
                refs = [r[1][name][which].get(key) for r in rounds]
                if None in refs:
                    line += f" {'-':>10} {'-':>17}"
                    continue
                ratios = [ref / mine for ref, mine in zip(refs, ours)]
                spread = f"{median(ratios):.2f} [{min(ratios):.2f}-{max(ratios):.2f}]"
                line += f" {median(refs) * 1e3:10.3f} {spread:>17}"
            print(f"{line}  {rate}")

if __name__ == "__main__":
    main()
