#!/usr/bin/env python3
"""A second, independent implementation of mnist-lr's training, in Python with NumPy.

Written from DESIGN.md and docs/exactness.md ("The arithmetic, exactly"), not from the
TypeScript, to witness that the rules written there determine the weights to the bit. It trains a
config with plain SGD or momentum (no learning-rate decay, validation split or weight decay) and
prints, per epoch, the training loss and, at the end, the test loss sum, the test accuracy and
the weights' SHA-256 (W, 784 x 10 row by pixel, then b, as little-endian float64), the line
`mnist-lr eval` prints.

    python3 test/witness/witness.py --data DIR --config configs/config_1.json --epochs 2

Only NumPy's elementwise +, -, *, / (IEEE basic operations, never fused), exact integer sums and
bit manipulation reach the weights; exp and log are fdlibm's, vectorised below, because NumPy's
own (and the C library's) differ from fdlibm in the last bit of some results.
"""
import argparse
import hashlib
import json
import os
import sys

import numpy as np

M32 = 0xFFFFFFFF
DELTA_SCALE = 2.0**24


# ---- fdlibm exp and log (e_exp.c, e_log.c), operation for operation, on arrays -----------------

def _words(x):
    bits = x.view(np.uint64)
    return (bits >> np.uint64(32)).astype(np.int64), (bits & np.uint64(M32)).astype(np.int64)


def _from_words(hi, lo):
    return ((hi.astype(np.uint64) << np.uint64(32)) | lo.astype(np.uint64)).view(np.float64)


def fd_exp(x):
    x = np.array(x, dtype=np.float64)
    out = np.empty_like(x)
    hi_word, lo_word = _words(x)
    xsb = (hi_word >> 31) & 1
    hx = hi_word & 0x7FFFFFFF
    done = np.zeros(x.shape, dtype=bool)

    def settle(mask, value):
        nonlocal done
        m = mask & ~done
        out[m] = np.broadcast_to(value, x.shape)[m]
        done |= m

    with np.errstate(all="ignore"):
        big = hx >= 0x40862E42
        nonfinite = big & (hx >= 0x7FF00000)
        settle(nonfinite & (((hx & 0xFFFFF) | lo_word) != 0), x + x)
        settle(nonfinite & (xsb == 0), x)
        settle(nonfinite, 0.0)
        settle(big & (x > 7.09782712893383973096e02), np.float64(1e300) * np.float64(1e300))
        settle(big & (x < -7.45133219101941108420e02), np.float64(2.0**-1000) * np.float64(2.0**-1000))
        settle((hx > 0x3FD62E42) & (hx < 0x3FF0A2B2) & (x == 1.0), 2.718281828459045)
        settle(hx < 0x3E300000, 1.0 + x)
        live = ~done
        xs = np.where(live, x, 0.0)
        ln2hi, ln2lo = 6.93147180369123816490e-01, 1.90821492927058770002e-10
        near = (hx > 0x3FD62E42) & (hx < 0x3FF0A2B2)  # |x| in (ln2/2, 1.5 ln2): k = +-1
        far = hx >= 0x3FF0A2B2
        sign = np.where(xsb == 0, 1.0, -1.0)
        kf = np.trunc(1.44269504088896338700e00 * xs + np.where(xsb == 0, 0.5, -0.5))
        k = np.where(near, 1 - 2 * xsb, np.where(far, kf.astype(np.int64), 0))
        t = k.astype(np.float64)
        hi = np.where(near, xs - sign * ln2hi, xs - t * ln2hi)
        lo = np.where(near, sign * ln2lo, t * ln2lo)
        r = np.where(near | far, hi - lo, xs)
        t = r * r
        c = r - t * (1.66666666666666019037e-01 + t * (-2.77777777770155933842e-03 + t * (
            6.61375632143793436117e-05 + t * (-1.65339022054652515390e-06 + t * 4.13813679705723846039e-08))))
        k0 = 1.0 - ((r * c) / (c - 2.0) - r)
        y = 1.0 - ((lo - (r * c) / (2.0 - c)) - hi)
        normal = k >= -1021
        twopk = _from_words(0x3FF00000 + (np.where(normal, k, k + 1000) << 20), np.zeros_like(k))
        scaled = np.where(normal, y * twopk, y * twopk * 2.0**-1000)
        scaled = np.where(k == 1024, y * 2.0 * 2.0**1023, scaled)
        settle(live & (k == 0), k0)
        settle(live, scaled)
    return out


def fd_log(x):
    x = np.array(x, dtype=np.float64)
    out = np.empty_like(x)
    done = np.zeros(x.shape, dtype=bool)

    def settle(mask, value):
        nonlocal done
        m = mask & ~done
        out[m] = np.broadcast_to(value, x.shape)[m]
        done |= m

    with np.errstate(all="ignore"):
        hx, lx = _words(x)
        hx = np.where(hx >= 2**31, hx - 2**32, hx)  # fdlibm's int32_t
        low = hx < 0x00100000
        settle(low & (((hx & 0x7FFFFFFF) | lx) == 0), -np.inf)
        settle(low & (hx < 0), np.nan)
        k = np.where(low, -54, 0)
        x = np.where(low, x * 2.0**54, x)  # subnormal: scale up
        hx, lx = _words(x)
        settle(hx >= 0x7FF00000, x + x)
        k = k + (hx >> 20) - 1023
        hx = hx & 0x000FFFFF
        i = (hx + 0x95F64) & 0x100000
        x = _from_words(hx | (i ^ 0x3FF00000), lx)  # normalise x or x/2
        k = k + (i >> 20)
        f = x - 1.0
        dk = k.astype(np.float64)
        ln2hi, ln2lo = 6.93147180369123816490e-01, 1.90821492927058770002e-10
        small = (0x000FFFFF & (2 + hx)) < 3
        settle(small & (f == 0) & (k == 0), 0.0)
        settle(small & (f == 0), dk * ln2hi + dk * ln2lo)
        R = f * f * (0.5 - 0.33333333333333333 * f)
        settle(small & (k == 0), f - R)
        settle(small, dk * ln2hi - ((R - dk * ln2lo) - f))
        s = f / (2.0 + f)
        z = s * s
        w = z * z
        t1 = w * (3.999999999940941908e-01 + w * (2.222219843214978396e-01 + w * 1.531383769920937332e-01))
        t2 = z * (6.666666666666735130e-01 + w * (2.857142874366239149e-01 + w * (
            1.818357216161805012e-01 + w * 1.479819860511658591e-01)))
        R = t2 + t1
        wide = ((hx - 0x6147A) | (0x6B851 - hx)) > 0
        hfsq = 0.5 * f * f
        settle(wide & (k == 0), f - (hfsq - s * (hfsq + R)))
        settle(wide, dk * ln2hi - ((hfsq - (s * (hfsq + R) + dk * ln2lo)) - f))
        settle(k == 0, f - s * (f - R))
        settle(~done, dk * ln2hi - ((s * (f - R) - dk * ln2lo) - f))
    return out


# ---- The epoch order: xoshiro128** seeded from (seed, stream, index), Fisher-Yates ----------------

def _imul(a, b):
    return (a * b) & M32


def mix32(x):
    x &= M32
    x = _imul(x ^ (x >> 16), 0x85EBCA6B)
    x = _imul(x ^ (x >> 13), 0xC2B2AE35)
    return x ^ (x >> 16)


def _rotl(x, k):
    return ((x << k) | (x >> (32 - k))) & M32


class Rng:
    def __init__(self, seed, stream, index):
        h = mix32(seed ^ 0x9E3779B9)
        h = mix32(h ^ _imul(stream + 1, 0x85EBCA6B))
        h = mix32(h ^ _imul(index + 1, 0xC2B2AE35))
        self.s = [mix32(h + 0x6A09E667), mix32(h + 0xBB67AE85), mix32(h + 0x3C6EF372), mix32(h + 0xA54FF53A) | 1]

    def next(self):
        a, b, c, d = self.s
        result = _imul(_rotl(_imul(b, 5), 7), 9)
        t = (b << 9) & M32
        c ^= a
        d ^= b
        b ^= c
        a ^= d
        c ^= t
        d = _rotl(d, 11)
        self.s = [a, b, c, d]
        return result

    def below(self, n):
        limit = 2**32 - (2**32 % n)
        while True:
            x = self.next()
            if x < limit:
                return x % n


def epoch_order(seed, epoch, n):
    rng = Rng(seed, 1, epoch)
    p = list(range(n))
    for i in range(n - 1, 0, -1):
        j = rng.below(i + 1)
        p[i], p[j] = p[j], p[i]
    return np.array(p, dtype=np.int64)


# ---- Data, forward pass, exact sums ----------------------------------------------------------------

def read_idx(path, dims):
    with open(path, "rb") as f:
        raw = f.read()
    assert raw[0] == 0 and raw[1] == 0 and raw[2] == 8 and raw[3] == dims, f"{path}: not an IDX file of bytes"
    shape = [int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def logits(W, b, X):
    """z_k = (sum over pixels, ascending, from +0, of W[p,k] * pixel_p) / 255 + b_k, with integer pixels.

    Zero pixels add +-0, which changes no sum that starts from +0; so every column any sample of X
    lights is added, in ascending order, one after the other (never a pairwise or BLAS sum)."""
    Xf = X.astype(np.float64)
    z = np.zeros((X.shape[0], 10))
    for p in np.nonzero(X.any(axis=0))[0]:
        z += Xf[:, p, None] * W[p]
    return z / 255.0 + b


def softmax_terms(z):
    """max, first argmax, e_k = exp(z_k - max), and sum = ((0 + e_0) + e_1) + ... + e_9."""
    best = np.argmax(z, axis=1)
    mx = z[np.arange(z.shape[0]), best]
    e = fd_exp(z - mx[:, None])
    s = np.zeros(z.shape[0])
    for k in range(10):
        s = s + e[:, k]
    return best, mx, e, s


def js_round(x):
    """Round to the nearest integer, ties towards +infinity (ECMAScript Math.round)."""
    r = np.ceil(x)
    return np.where(r - 0.5 > x, r - 1.0, r)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--config", required=True)
    ap.add_argument("--epochs", type=int)
    args = ap.parse_args()
    with open(args.config) as f:
        cfg = json.load(f)
    for key in ("learning_decay", "validation_split", "weight_decay"):
        if cfg.get(key, 0):
            sys.exit(f"witness: {args.config}: {key} is not implemented here; use a config without it")
    epochs = args.epochs or cfg["num_epoches"]
    B, lr, seed = cfg["batch_size"], float(cfg["learning_rate"]), cfg.get("seed", 0)
    momentum, mu = cfg["momentum"] == 1, float(cfg["mu"])

    X = read_idx(os.path.join(args.data, "train-images-idx3-ubyte"), 3).reshape(-1, 784)
    Y = read_idx(os.path.join(args.data, "train-labels-idx1-ubyte"), 1).astype(np.int64)
    Xt = read_idx(os.path.join(args.data, "t10k-images-idx3-ubyte"), 3).reshape(-1, 784)
    Yt = read_idx(os.path.join(args.data, "t10k-labels-idx1-ubyte"), 1).astype(np.int64)
    n = X.shape[0]

    W = np.zeros((784, 10))
    b = np.zeros(10)
    vW = np.zeros((784, 10))
    vb = np.zeros(10)
    eye = np.eye(10)
    for epoch in range(epochs):
        order = epoch_order(seed, epoch, n)
        loss_sum = 0.0
        for start in range(0, n, B):
            idx = order[start:start + B]
            Xb, yb = X[idx], Y[idx]
            z = logits(W, b, Xb)
            _, mx, e, s = softmax_terms(z)
            inv = 1.0 / s
            D = js_round((e * inv[:, None] - eye[yb]) * DELTA_SCALE)
            loss = js_round((fd_log(s) - (z[np.arange(len(yb)), yb] - mx)) * DELTA_SCALE)
            loss_sum += loss.sum()  # integers: exact in any order
            gW = Xb.T.astype(np.float64) @ D  # integers below 2^53: exact in any order
            gb = D.sum(axis=0)
            m = len(idx)
            invW = 1.0 / (255.0 * DELTA_SCALE * m)
            invB = 1.0 / (DELTA_SCALE * m)
            if momentum:
                vW = mu * vW + lr * (gW * invW)
                W = W - vW
                vb = mu * vb + lr * (gb * invB)
                b = b - vb
            else:
                W = W - lr * (gW * invW)
                b = b - lr * (gb * invB)
        print(f"epoch {epoch + 1} train loss {repr(float(loss_sum / DELTA_SCALE / n))}")

    # Test loss: sum of -log p_y = log(sum) - (z_y - max), float64, in sample order.
    test_sum = 0.0
    correct = 0
    for start in range(0, Xt.shape[0], 500):
        z = logits(W, b, Xt[start:start + 500])
        y = Yt[start:start + 500]
        best, mx, _, s = softmax_terms(z)
        per = fd_log(s) - (z[np.arange(len(y)), y] - mx)
        for v in per:
            test_sum += float(v)
        correct += int((best == y).sum())
    print(f"test loss sum {repr(test_sum)}")
    print(f"test accuracy {correct / Xt.shape[0]!r}")
    digest = hashlib.sha256(W.astype("<f8").tobytes() + b.astype("<f8").tobytes()).hexdigest()
    print(f"weights sha256 {digest}")


if __name__ == "__main__":
    main()
