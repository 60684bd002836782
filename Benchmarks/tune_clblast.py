#!/usr/bin/env python3
"""Tunes CLBlast's SGEMM kernel for one OpenCL device and keeps the best parameters.

Runs Debian's `clblast_tuner_xgemm` (package clblast-utils) in a scratch folder, takes the
fastest configuration over every phase it finished (or, when stopped early with --minutes, the
fastest row of its log), and writes Benchmarks/clblast-tuning/<device name>.json, which
compare.py then uses to time CLBlast "after its tuner" next to CLBlast as shipped on that device
(one file per device name, so tunings from several machines live side by side).

    python3 Benchmarks/tune_clblast.py [--device N] [--size 512] [--fraction 0.02] [--minutes 30]

The tuner's first phase always runs its fixed set (578 configurations, ~15 min on pocl with 2
cores the first time, minutes once pocl has cached the kernels); --fraction sizes the random
phases after it (0.02 is ~120,000 configurations, so --minutes is what ends them; much smaller
fractions made the tuner abort with bad_alloc here).
"""
import argparse, glob, json, os, re, subprocess, tempfile, time, datetime

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
COLUMNS = "GEMMK MWG NWG KWG MDIMC NDIMC MDIMA NDIMB KWI VWM VWN STRM STRN SA SB KREG".split()


def platform_and_device(index):
    """CLBlast's tuner takes (platform, device); Tessel numbers devices across platforms."""
    out = subprocess.run(["clinfo", "-l"], capture_output=True, text=True, check=True).stdout
    flat = 0
    platform = -1
    for line in out.splitlines():
        if line.startswith("Platform #"):
            platform += 1
            local = 0
        elif "Device #" in line:
            if flat == index:
                return platform, local, line.split(":", 1)[1].strip()
            flat += 1
            local += 1
    raise SystemExit(f"no OpenCL device {index}")


def best_from_log(log):
    """The fastest row of the tuner's table: (ms, parameters text)."""
    best = None
    for line in log.splitlines():
        cells = [c.strip() for c in line.split("|")]
        if len(cells) < 10 or "results match" not in line:
            continue
        values = cells[3].split()
        match = re.match(r"([\d.]+) ms", cells[7])
        if len(values) != len(COLUMNS) or not match:
            continue
        ms = float(match.group(1))
        if best is None or ms < best[0]:
            best = (ms, " ".join(f"{k}={v}" for k, v in zip(COLUMNS, values)))
    return best


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", type=int, default=0)
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--fraction", type=float, default=0.02)
    parser.add_argument("--minutes", type=float, default=30)
    args = parser.parse_args()
    platform, device, name = platform_and_device(args.device)
    scratch = tempfile.mkdtemp(prefix="clblast-tune-")
    command = ["clblast_tuner_xgemm", "-platform", str(platform), "-device", str(device), "-runs", "1",
               "-m", str(args.size), "-n", str(args.size), "-k", str(args.size), "-fraction", str(args.fraction)]
    print("running", " ".join(command), "in", scratch, flush=True)
    with open(os.path.join(scratch, "tuner.log"), "w") as log_file:
        tuner = subprocess.Popen(command, cwd=scratch, stdout=log_file, stderr=subprocess.STDOUT)
        try:
            tuner.wait(timeout=args.minutes * 60)
        except subprocess.TimeoutExpired:
            tuner.terminate()
            tuner.wait()
            print(f"stopped after {args.minutes} minutes", flush=True)
    log = open(os.path.join(scratch, "tuner.log"), errors="replace").read()
    best = best_from_log(log)
    for path in glob.glob(os.path.join(scratch, "clblast_xgemm_*_32.json")):
        result = json.load(open(path))
        if result.get("best_kernel") == "Xgemm" and (best is None or float(result["best_time"]) < best[0]):
            best = (float(result["best_time"]), result["best_parameters"])
    if best is None:
        raise SystemExit("the tuner finished no configuration")
    gflops = 2 * args.size ** 3 / (best[0] * 1e-3) / 1e9
    summary = {"device": name, "size": args.size, "best_ms": best[0], "gflops": round(gflops, 1),
               "parameters": best[1], "date": datetime.date.today().isoformat(),
               "tuner": " ".join(command), "phases_finished": len(glob.glob(os.path.join(scratch, "clblast_xgemm_*_32.json")))}
    slug = re.sub(r"[^A-Za-z0-9]+", "-", name).strip("-")
    target = os.path.join(ROOT, "Benchmarks", "clblast-tuning", f"{slug}.json")
    os.makedirs(os.path.dirname(target), exist_ok=True)
    json.dump(summary, open(target, "w"), indent=2)
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
