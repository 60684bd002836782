#!/bin/sh
# Two `tessel serve` replicas behind nginx on loopback, a bounded load through nginx, and one
# replica stopped (SIGTERM) in the middle: every request must still be answered 200 (nginx
# retries on the other replica; the stopped one finishes what it holds before exiting).
#
#   sh deploy/replicas.sh [MODEL] [SECONDS]     (default out/mnist-mlp.safetensors, 8 s)
#
# Needs `make build` (or TESSEL=path), nginx and wrk (Debian's packages). Prints wrk's counts and exits non-zero
# if any request was not answered 200.
set -eu
MODEL=${1:-out/mnist-mlp.safetensors}
SECONDS_OF_LOAD=${2:-8}
TESSEL=${TESSEL:-.build/release/tessel}
WORK=$(mktemp -d)
PORT_NGINX=18080 PORT_A=18081 PORT_B=18082
cleanup() {
    [ -f "$WORK/nginx.pid" ] && kill "$(cat "$WORK/nginx.pid")" 2>/dev/null || true
    kill "$PID_A" "$PID_B" 2>/dev/null || true
    wait 2>/dev/null || true
}
trap cleanup EXIT

"$TESSEL" serve --model "$MODEL" --device cpu --port $PORT_A --max-batch 64 --max-delay-ms 2 > "$WORK/a.log" 2>&1 &
PID_A=$!
"$TESSEL" serve --model "$MODEL" --device cpu --port $PORT_B --max-batch 64 --max-delay-ms 2 > "$WORK/b.log" 2>&1 &
PID_B=$!
for port in $PORT_A $PORT_B; do
    for _ in $(seq 100); do
        curl -sf "http://127.0.0.1:$port/readyz" > /dev/null 2>&1 && break
        sleep 0.1
    done
    curl -sf "http://127.0.0.1:$port/readyz" > /dev/null || { echo "replica on $port never became ready"; exit 1; }
done

mkdir -p "$WORK/body" "$WORK/proxy" "$WORK/fastcgi" "$WORK/uwsgi" "$WORK/scgi"
UPSTREAMS=$(printf '        server 127.0.0.1:%s max_fails=1 fail_timeout=2s;\\n        server 127.0.0.1:%s max_fails=1 fail_timeout=2s;' $PORT_A $PORT_B)
sed -e "s|@UPSTREAMS@|$UPSTREAMS|" -e "s|@PORT@|$PORT_NGINX|" -e "s|@PREFIX@|$WORK|g" deploy/nginx.conf.template > "$WORK/nginx.conf"
nginx -t -q -c "$WORK/nginx.conf" -p "$WORK"
nginx -c "$WORK/nginx.conf" -p "$WORK"
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$PORT_NGINX/readyz" > /dev/null 2>&1 && break; sleep 0.1; done

python3 -c "
import gzip, json
raw = gzip.open('Data/mnist/t10k-images-idx3-ubyte.gz').read()[16:16 + 784]
json.dump({'pixels': list(raw)}, open('$WORK/body.json', 'w'))"
cat > "$WORK/post.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = io.open("$WORK/body.json"):read("*a")
LUA

wrk -t 2 -c 32 -d "${SECONDS_OF_LOAD}s" --timeout 10s -s "$WORK/post.lua" "http://127.0.0.1:$PORT_NGINX/v1/predict" > "$WORK/wrk.txt" 2>&1 &
WRK=$!
sleep $((SECONDS_OF_LOAD / 2))
echo "stopping the replica on port $PORT_A (SIGTERM) in the middle of the load"
kill -TERM "$PID_A"
wait "$PID_A" && echo "replica A exited 0: $(tail -1 "$WORK/a.log")"
wait "$WRK"
cat "$WORK/wrk.txt"
echo "replica B: $(curl -s "http://127.0.0.1:$PORT_B/metrics" | grep '^nv_inference_request_success')"
if grep -q "Non-2xx" "$WORK/wrk.txt" || grep -q "Socket errors" "$WORK/wrk.txt"; then
    echo "FAILED: some requests were not answered 200"
    exit 1
fi
echo "every request answered 200"
