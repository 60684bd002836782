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


if __name__ == "__main__":
    main()
