#!/usr/bin/env python3
"""Writes the NumPy reference fixtures of Tessel's backend conformance suite.

Run once from anywhere (`python3 Tests/Fixtures/make_fixtures.py`); the JSON files land next to
this script and are committed. The Swift tests (Tests/TesselTests/Conformance/
FixtureConformanceTests.swift) load them through #filePath and check every device against them,
so the hand-written Swift reference (RefArray) is itself cross-checked by an independent one.

Inputs are float32 (what Tessel stores); references are computed in float64 from those float32
inputs. Non-finite numbers are written as the strings "nan", "inf", "-inf" (JSON has no literal).
"""
import json
import math
import os

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
rng = np.random.default_rng(20240611)


def enc(x):
    """{"shape": [...], "values": [...]} with float32-exact inputs or float64 references."""
    a = np.asarray(x)
    out = []
    for v in a.reshape(-1).tolist():
        if isinstance(v, float) and math.isnan(v):
            out.append("nan")
        elif isinstance(v, float) and math.isinf(v):
            out.append("inf" if v > 0 else "-inf")
        elif isinstance(v, bool):
            out.append(1 if v else 0)
        else:
            out.append(v)
    return {"shape": list(a.shape), "values": out}


def f32(shape, low=-1.0, high=1.0):
    return rng.uniform(low, high, size=shape).astype(np.float32)


def stable_lse(x, axis):
    x = x.astype(np.float64)
    m = np.max(x, axis=axis, keepdims=True)
    m = np.where(np.isfinite(m), m, 0.0)
    with np.errstate(divide="ignore"):
        return np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True)) + m


def main():
    fixtures = {}

    # Element-wise functions on float32 inputs (float64 references).
    x = np.concatenate([f32(40, -5, 5), np.array([0, -0.0, 1, -1, 10, -10, 30, -30], np.float32)])
    pos = np.concatenate([f32(40, 0.01, 50), np.array([1, 2, 0.5, 1e-3, 1e3], np.float32)])
    x64, p64 = x.astype(np.float64), pos.astype(np.float64)
    fixtures["unary"] = {
        "x": enc(x),
        "positive": enc(pos),
        "exp": enc(np.exp(x64)),
        "sin": enc(np.sin(x64)),
        "cos": enc(np.cos(x64)),
        "tanh": enc(np.tanh(x64)),
        "sigmoid": enc(1.0 / (1.0 + np.exp(-x64))),
        "abs": enc(np.abs(x64)),
        "relu": enc(np.maximum(x64, 0)),
        "square": enc(x64 * x64),
        "log": enc(np.log(p64)),
        "sqrt": enc(np.sqrt(p64)),
        "pow_x_half": enc(np.power(p64, 0.5)),
        "pow_x_minus_1_5": enc(np.power(p64, -1.5)),
    }

    # Broadcasting: NumPy's result shapes and values.
    cases = []
    for sa, sb in [((3, 1), (1, 4)), ((2, 1, 4), (3, 1)), ((), (5,)), ((5, 1, 1), (1, 6, 1)), ((0, 3), (3,)), ((4,), (2, 3, 4))]:
        a, b = f32(sa, -3, 3), f32(sb, 0.5, 3)
        a64, b64 = a.astype(np.float64), b.astype(np.float64)
        cases.append({"a": enc(a), "b": enc(b), "add": enc(a64 + b64), "sub": enc(a64 - b64), "mul": enc(a64 * b64),
                      "div": enc(a64 / b64), "maximum": enc(np.maximum(a64, b64)), "less": enc((a64 < b64).astype(np.int32))})
    fixtures["broadcast"] = cases

    # Reductions of a [3, 5, 7] tensor with ties (small whole numbers) and of random floats.
    ties = rng.integers(0, 3, size=(3, 5, 7)).astype(np.float32)
    r = f32((3, 5, 7), -10, 10)
    r64 = r.astype(np.float64)
    red = {"ties": enc(ties), "x": enc(r), "axes": []}
    for axes in [None, (0,), (1,), (2,), (0, 2), (1, 2)]:
        red["axes"].append({
            "axes": list(axes) if axes is not None else None,
            "sum": enc(np.sum(r64, axis=axes)),
            "mean": enc(np.mean(r64, axis=axes)),
            "max": enc(np.max(r64, axis=axes)),
            "min": enc(np.min(r64, axis=axes)),
        })
    red["argmax_ties"] = [enc(np.argmax(ties, axis=a).astype(np.int32)) for a in range(3)]
    red["argmin_ties"] = [enc(np.argmin(ties, axis=a).astype(np.int32)) for a in range(3)]
    red["argmax_ties_flat"] = int(np.argmax(ties))
    red["argmin_ties_flat"] = int(np.argmin(ties))
    fixtures["reduce"] = red

    # softmax family on rows that overflow a naive exp.
    s = np.array([[1000, -1000, 0, 999, 1000, -5],
                  [-1000, -1001, -999, -1000, -1002, -1000],
                  [1, -np.inf, 2, 0.5, -np.inf, -3],
                  [88, 89, 90, -88, -89, 0]], np.float32)
    lse = stable_lse(s, 1)
    fixtures["softmax"] = {"x": enc(s), "logsumexp": enc(lse.reshape(-1)), "log_softmax": enc(s.astype(np.float64) - lse),
                           "softmax": enc(np.exp(s.astype(np.float64) - lse))}

    # matmul with broadcast batch axes and 1-D operands.
    mm = []
    for sa, sb in [((2, 3, 4, 5), (5, 6)), ((2, 1, 4, 5), (3, 5, 6)), ((4,), (2, 4, 5)), ((3, 4), (4,)), ((7, 13), (13, 5))]:
        a, b = f32(sa), f32(sb)
        mm.append({"a": enc(a), "b": enc(b), "out": enc(np.matmul(a.astype(np.float64), b.astype(np.float64)))})
    fixtures["matmul"] = mm

    # gather (take_along_axis) and one-hot.
    g = f32((4, 5))
    idx = rng.integers(0, 5, size=(4, 3)).astype(np.int32)
    fixtures["gather"] = {"x": enc(g), "index": enc(idx), "out": enc(np.take_along_axis(g, idx, axis=1))}

    # int32 semantics: floor division (NumPy's //, PyTorch's floor_divide) with x // 0 = 0;
    # true division gives float; float -> int32 truncation.
    ia = rng.integers(-1000, 1000, size=24).astype(np.int32)
    ib = rng.integers(-9, 10, size=24).astype(np.int32)
    q = np.where(ib == 0, 0, np.floor_divide(ia, np.where(ib == 0, 1, ib))).astype(np.int32)
    fc = np.array([-2.7, -0.5, 0.5, 2.7, 1e9, -1e9, 123456.78, -99.99], np.float32)
    fixtures["int32"] = {"a": enc(ia), "b": enc(ib), "div": enc(q), "floats": enc(fc), "cast": enc(np.trunc(fc).astype(np.int32))}

    path = os.path.join(HERE, "conformance.json")
    with open(path, "w") as f:
        json.dump(fixtures, f, separators=(",", ":"))
    print(f"wrote {path} ({os.path.getsize(path)} bytes)")


def write_operations():
    """ops.json: the operations the autograd and training issues build on (their own generator,
    so conformance.json stays as it is)."""
    r = np.random.default_rng(20261201)
    ops = {}
    x = r.uniform(-2, 2, size=(3, 5)).astype(np.float32)
    ties = r.integers(-2, 3, size=(4, 6)).astype(np.float32)
    ties[1, 2] = np.nan
    ties[3, 0] = np.nan
    x64 = x.astype(np.float64)
    ops["x"] = enc(x)
    ops["ties"] = enc(ties)
    ops["cumsum0"] = enc(np.cumsum(x64, axis=0))
    ops["cumsum1"] = enc(np.cumsum(x64, axis=1))
    ops["cumprod1"] = enc(np.cumprod(x64, axis=1))
    ops["prod"] = enc(np.prod(x64))
    ops["prod0"] = enc(np.prod(x64, axis=0))
    ops["var"] = enc(np.var(x64, ddof=1))
    ops["var1"] = enc(np.var(x64, axis=1, ddof=1))
    ops["std0_biased"] = enc(np.std(x64, axis=0, ddof=0))
    # Stable sorts; NumPy puts NaN last ascending, as Tessel and PyTorch do.
    ops["argsort1"] = enc(np.argsort(ties, axis=1, kind="stable").astype(np.int32))
    ops["sort1"] = enc(np.sort(ties, axis=1, kind="stable"))
    ops["argsort0"] = enc(np.argsort(ties, axis=0, kind="stable").astype(np.int32))
    # Descending, stable, NaN first: negate the keys (NaN stays NaN and sorts last, so flip it).
    keys = np.where(np.isnan(ties), -np.inf, -ties)
    nan_first = np.argsort(np.where(np.isnan(ties), -np.inf, keys), axis=1, kind="stable")
    ops["argsort1_descending"] = enc(nan_first.astype(np.int32))
    ops["pad_constant"] = enc(np.pad(x, ((1, 0), (2, 1)), constant_values=-1))
    ops["pad_reflect"] = enc(np.pad(x, ((2, 1), (3, 4)), mode="reflect"))
    ops["pad_replicate"] = enc(np.pad(x, ((1, 2), (0, 3)), mode="edge"))
    ops["linspace"] = enc(np.linspace(-1, 2, 7).astype(np.float32))
    ops["flip"] = enc(np.flip(x, axis=(0, 1)))
    ops["stride_back"] = enc(x[::-2, 3::-2])
    ops["nonzero"] = enc(np.stack(np.nonzero(ties), axis=1).astype(np.int32))
    ops["masked"] = enc(x[x > 0])
    base = np.zeros((3, 4), np.float32)
    sidx = np.array([[0, 1, 2, 0], [2, 2, 1, 0]], np.int32)
    src = r.uniform(-1, 1, size=(2, 4)).astype(np.float32)
    out = base.astype(np.float64).copy()
    for i in range(2):
        for j in range(4):
            out[sidx[i, j], j] += src[i, j]
    ops["scatter"] = {"index": enc(sidx), "source": enc(src), "out": enc(out)}
    path = os.path.join(HERE, "ops.json")
    with open(path, "w") as f:
        json.dump(ops, f, separators=(",", ":"))
    print(f"wrote {path} ({os.path.getsize(path)} bytes)")


if __name__ == "__main__":
    main()
    write_operations()
