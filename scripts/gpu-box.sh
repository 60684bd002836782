#!/bin/sh
# The GPU-box check of the benchmark issue (issue 3), as one short prepared script in two halves:
#
#   sh scripts/gpu-box.sh prepare   # here: static, stripped release builds of `tessel` and of the
#                                   # load generator (Benchmarks/LoadGenerator) and the OpenCL ICD
#                                   # loader, in .build-gpu/box
#   sh scripts/gpu-box.sh run       # on the machine with the GPU: lists devices, benchmarks its
#                                   # OpenCL GPU (results checked against the CPU backend), trains
#                                   # the MLP and the CNN for one epoch each on it (the bundled
#                                   # Data/mnist travels with the working tree), then serves the MLP
#                                   # from it, unbatched and batched, under 1 and 256 clients
#
# With the session's device tool: command "sh scripts/gpu-box.sh run", carry [".build-gpu/box"];
# the tables and JSON land in $OUT. Nothing is installed there: the binary links the Swift
# runtime statically and brings libOpenCL.so.1; NVIDIA's driver provides libnvidia-opencl.so.1.
# The CPU target is x86-64-v3 (AVX2), which any server of the last decade runs.
# BOX_SIZES / BOX_ELEMENTS override the GEMM shapes and element counts (a quick local try run).
set -eu
BOX=.build-gpu/box
case "${1:-}" in
prepare)
    swift build -c release --static-swift-stdlib -Xcc -march=x86-64-v3 -Xswiftc -DTESSEL_CPU_TARGET \
        --scratch-path .build-gpu --product tessel
    mkdir -p "$BOX"
    strip -o "$BOX/tessel" .build-gpu/release/tessel
    gzip -f "$BOX/tessel"
    swift build -c release --static-swift-stdlib --package-path Benchmarks/LoadGenerator --scratch-path .build-gpu/load
    strip -o "$BOX/tessel-load" .build-gpu/load/release/tessel-load
    gzip -f "$BOX/tessel-load"
    cp -L "$(ldconfig -p | awk '/libOpenCL.so.1 / { print $NF; exit }')" "$BOX/libOpenCL.so.1"
    ls -la "$BOX"
    ;;
run)
    OUT=${OUT:-out/gpu-box}
    mkdir -p "$OUT"
    tessel=$(mktemp) load=$(mktemp)
    gunzip -c "$BOX/tessel.gz" > "$tessel"
    gunzip -c "$BOX/tessel-load.gz" > "$load"
    chmod +x "$tessel" "$load"
    export LD_LIBRARY_PATH="$PWD/$BOX${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
    # Drivers register in /etc/OpenCL/vendors; where NVIDIA's did not, name its library.
    ls /etc/OpenCL/vendors/*.icd >/dev/null 2>&1 || export OCL_ICD_FILENAMES=libnvidia-opencl.so.1
    nvidia-smi --query-gpu=name,clocks.max.sm,clocks.sm,power.limit --format=csv 2>&1 | tee "$OUT/nvidia-smi.txt" || true
    "$tessel" devices 2>&1 | tee "$OUT/devices.txt"
    "$tessel" bench --device opencl:0 --ops gemm,add,broadcast,sum,softmax,transpose,transfer \
        --sizes "${BOX_SIZES:-256,512,1024,2048,4096,8192,128x784x128,784x128x128}" \
        --elements "${BOX_ELEMENTS:-1048576,16777216,67108864}" --budget 0.3 \
        --json "$OUT/bench-opencl.json" 2>&1 | tee "$OUT/bench-opencl.txt"
    for model in mlp cnn; do
        "$tessel" train --model "$model" --epochs 1 --device opencl:0 --data Data/mnist \
            --out "$OUT/mnist-$model.safetensors" --json "$OUT/train-$model.json" 2>&1 | tee "$OUT/train-$model.txt"
    done
    # Serving: the MLP just trained, from the GPU, one MNIST test image as JSON per request.
    body=$(mktemp)
    printf '{"pixels":[%s]}' "$(gunzip -c Data/mnist/t10k-images-idx3-ubyte.gz | head -c 800 | tail -c 784 \
        | od -An -tu1 -v | tr -s ' \n' '  ' | sed 's/^ *//; s/ *$//; s/ /,/g')" > "$body"
    for batch in 1 128; do
        log="$OUT/serve-batch$batch.log"
        "$tessel" serve --model "$OUT/mnist-mlp.safetensors" --device opencl:0 --port 0 --max-batch "$batch" \
            --max-delay-ms 2 --queue-capacity 4096 > "$log" 2>&1 &
        server=$!
        port=""
        for _ in $(seq 1 600); do
            port=$(sed -n 's|.*http://127\.0\.0\.1:\([0-9]*\)/ (ready).*|\1|p' "$log" | head -n 1)
            [ -n "$port" ] && break
            sleep 0.1
        done
        [ -n "$port" ] || { cat "$log"; kill "$server"; exit 1; }
        for clients in 1 256; do
            result=$("$load" --url "http://127.0.0.1:$port/v1/predict" --body "$body" \
                --connections "$clients" --seconds "${BOX_SERVE_SECONDS:-4}")
            echo "max-batch $batch clients $clients $result" | tee -a "$OUT/serve-load.txt"
        done
        kill -TERM "$server"
        wait "$server" || true
    done
    ;;
*)
    echo "usage: sh scripts/gpu-box.sh prepare|run" >&2
    exit 2
    ;;
esac
