#!/usr/bin/env python3
"""Load on `tessel serve`, unbatched against batched, side by side in one run (loopback only).

For each device, starts `tessel serve` twice on a free port, once with `--max-batch 1` and once
with `--max-batch 128`, and drives each with wrk (Debian's package), or with `--client swift` the
Swift load generator in Benchmarks/LoadGenerator (async-http-client; the one that travels to the
GPU box), posting one MNIST test image as JSON at 1, 16, 64 and 256 concurrent connections for a
few seconds each. Prints throughput,
p50/p99 latency, the mean batch size (from /metrics) and how many requests were answered 200,
503 or otherwise (wrk counts every response; nothing may go unanswered: a socket error or a
timeout is counted as "lost").

    python3 Benchmarks/serve_load.py [--device cpu,opencl:0] [--seconds 4] [--model out/mnist-mlp.safetensors] [--client wrk|swift]

Needs `make build` and a model (`make run` writes out/mnist-mlp.safetensors); wrk: `apt-get install wrk`;
the Swift client: `swift build -c release --package-path Benchmarks/LoadGenerator`.
"""
import argparse, gzip, json, os, re, subprocess, sys, tempfile, time, urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TESSEL = os.path.join(ROOT, ".build", "release", "tessel")
TESSEL_LOAD = os.path.join(ROOT, "Benchmarks", "LoadGenerator", ".build", "release", "tessel-load")

LUA = r"""
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = io.open(os.getenv("BODY_FILE")):read("*a")
local statuses = {}
response = function(status, headers, body) statuses[status] = (statuses[status] or 0) + 1 end
done = function(summary, latency, requests)
  io.write(string.format("RESULT requests=%d duration_us=%d p50_us=%d p99_us=%d errors=%d timeouts=%d\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    summary.errors.connect + summary.errors.read + summary.errors.write, summary.errors.timeout))
end
"""


def image_body(path):
    raw = gzip.open(os.path.join(ROOT, "Data", "mnist", "t10k-images-idx3-ubyte.gz")).read()[16:16 + 784]
    with open(path, "w") as f:
        json.dump({"pixels": list(raw)}, f)


def start_server(model, device, max_batch, max_delay_ms):
    process = subprocess.Popen([TESSEL, "serve", "--model", model, "--device", device, "--port", "0",
                                "--max-batch", str(max_batch), "--max-delay-ms", str(max_delay_ms), "--queue-capacity", "4096"],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    for line in process.stdout:
        found = re.search(r"http://127\.0\.0\.1:(\d+)/ \(ready\)", line)
        if found:
            return process, int(found.group(1))
    sys.exit(f"tessel serve did not start on {device}")


def metrics(port):
    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics").read().decode()
    def value(name):
        found = re.search(rf"^{name} ([0-9.e+]+)$", text, re.M)
        return float(found.group(1)) if found else 0.0
    return value("nv_inference_batch_size_sum"), value("nv_inference_batch_size_count")


def run_wrk(port, connections, seconds, body_file, lua_file):
    env = dict(os.environ, BODY_FILE=body_file)
    done = subprocess.run(["wrk", "-t", str(min(connections, 2)), "-c", str(connections), "-d", f"{seconds}s", "--timeout", "10s",
                           "-s", lua_file, f"http://127.0.0.1:{port}/v1/predict"], env=env, capture_output=True, text=True)
    result = dict(re.findall(r"(\w+)=(\d+)", next((l for l in done.stdout.splitlines() if l.startswith("RESULT")), "")))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", done.stdout)
    return {k: int(v) for k, v in result.items()}, int(non2xx.group(1)) if non2xx else 0


def run_swift_client(port, connections, seconds, body_file):
    done = subprocess.run([TESSEL_LOAD, "--url", f"http://127.0.0.1:{port}/v1/predict", "--body", body_file,
                           "--connections", str(connections), "--seconds", str(seconds), "--timeout", "10"],
                          capture_output=True, text=True)
    line = next((l for l in done.stdout.splitlines() if l.startswith("RESULT")), None)
    if line is None:
        sys.exit(f"tessel-load failed: {done.stderr.strip()}")
    result = {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", line)}
    return result, result.get("non2xx", 0)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cpu,opencl:0")
    parser.add_argument("--model", default=os.path.join(ROOT, "out", "mnist-mlp.safetensors"))
    parser.add_argument("--seconds", type=int, default=4)
    parser.add_argument("--max-delay-ms", type=float, default=2)
    parser.add_argument("--clients", default="1,16,64,256")
    parser.add_argument("--client", choices=["wrk", "swift"], default="wrk")
    args = parser.parse_args()
    if args.client == "swift" and not os.path.exists(TESSEL_LOAD):
        sys.exit("no Swift load generator: swift build -c release --package-path Benchmarks/LoadGenerator")
    if not os.path.exists(args.model):
        sys.exit(f"no model at {args.model}: run `make run` (or tessel train) first")
    folder = tempfile.mkdtemp()
    body, lua = os.path.join(folder, "body.json"), os.path.join(folder, "post.lua")
    image_body(body)
    with open(lua, "w") as f:
        f.write(LUA)
    print(f"{'device':9} {'max-batch':9} {'clients':>7} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'batch':>6} {'200':>8} {'non-2xx':>8} {'lost':>5}")
    for device in args.device.split(","):
        throughput = {}
        for max_batch in [1, 128]:
            server, port = start_server(args.model, device, max_batch, args.max_delay_ms)
            try:
                for clients in map(int, args.clients.split(",")):
                    before = metrics(port)
                    if args.client == "swift":
                        result, non2xx = run_swift_client(port, clients, args.seconds, body)
                    else:
                        result, non2xx = run_wrk(port, clients, args.seconds, body, lua)
                    after = metrics(port)
                    batches = after[1] - before[1]
                    mean_batch = (after[0] - before[0]) / batches if batches else 0
                    requests = result.get("requests", 0)
                    rate = requests / (result.get("duration_us", 1) / 1e6)
                    throughput[(max_batch, clients)] = rate
                    lost = result.get("errors", 0) + result.get("timeouts", 0)
                    print(f"{device:9} {max_batch:9} {clients:7} {rate:9.0f} {result.get('p50_us', 0) / 1000:8.2f} "
                          f"{result.get('p99_us', 0) / 1000:8.2f} {mean_batch:6.1f} {requests - non2xx:8} {non2xx:8} {lost:5}")
            finally:
                server.terminate()
                server.wait()
        for clients in map(int, args.clients.split(",")):
            if (1, clients) in throughput and throughput[(1, clients)] > 0:
                print(f"{device}: {clients} clients, batched / unbatched throughput = {throughput[(128, clients)] / throughput[(1, clients)]:.2f}x")


if __name__ == "__main__":
    main()
