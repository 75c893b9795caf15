"""The NumPy origin's algorithm, as its README describes it, for `mnist-lr bench origin`.

Softmax regression trained by minibatch SGD on MNIST: float64 features x = p / 255, zero-initialised
W (784x10) and b (10), the mean gradient of each batch, optional momentum (v = mu*v + lr*g;
w -= v) and the origin's decay rule (after each epoch from the second on, lr *= decay_factor when
the test accuracy rose by less than 0.001). Every epoch reshuffles the training set and ends with
the test loss (sum over the 10,000 images) and accuracy. It prints one line per epoch, as the
origin does; it draws no plots and writes no files.

usage: python3 bench/origin.py CONFIG.json MNIST_DIR [EPOCHS]
"""
import json
import sys
import time

import numpy as np


def read_idx(path):
    """An IDX file of unsigned bytes (the MNIST format) as an array of its declared shape."""
    with open(path, "rb") as f:
        raw = f.read()
    ndims = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * d : 8 + 4 * d], "big") for d in range(ndims)]
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndims).reshape(dims)


def load(folder):
    x_train = read_idx(f"{folder}/train-images-idx3-ubyte").reshape(-1, 784).astype(np.float64) / 255.0
    y_train = read_idx(f"{folder}/train-labels-idx1-ubyte").astype(np.int64)
    x_test = read_idx(f"{folder}/t10k-images-idx3-ubyte").reshape(-1, 784).astype(np.float64) / 255.0
    y_test = read_idx(f"{folder}/t10k-labels-idx1-ubyte").astype(np.int64)
    return x_train, y_train, x_test, y_test


def softmax(z):
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def evaluate(w, b, x, y):
    p = softmax(x @ w + b)
    loss = -np.log(p[np.arange(len(y)), y]).sum()
    accuracy = float((p.argmax(axis=1) == y).mean())
    return loss, accuracy


def main():
    hyp = json.load(open(sys.argv[1]))
    epochs = int(sys.argv[3]) if len(sys.argv) > 3 else hyp["num_epoches"]
    x_train, y_train, x_test, y_test = load(sys.argv[2])
    np.random.seed(1024)
    w = np.zeros((784, 10))
    b = np.zeros(10)
    w_velocity = np.zeros_like(w)
    b_velocity = np.zeros_like(b)
    lr = hyp["learning_rate"]
    batch = hyp["batch_size"]
    onehot = np.eye(10)
    accuracies = []
    for epoch in range(epochs):
        started = time.perf_counter()
        order = np.random.permutation(len(y_train))
        for start in range(0, len(order), batch):
            idx = order[start : start + batch]
            x = x_train[idx]
            delta = softmax(x @ w + b) - onehot[y_train[idx]]
            dw = x.T @ delta / len(idx)
            db = delta.mean(axis=0)
            if bool(hyp["momentum"]):
                w_velocity = hyp["mu"] * w_velocity + lr * dw
                b_velocity = hyp["mu"] * b_velocity + lr * db
                w -= w_velocity
                b -= b_velocity
            else:
                w -= lr * dw
                b -= lr * db
        loss, accuracy = evaluate(w, b, x_test, y_test)
        accuracies.append(accuracy)
        if bool(hyp["learning_decay"]) and len(accuracies) >= 2 and accuracies[-1] - accuracies[-2] < 0.001:
            lr *= hyp["decay_factor"]
        print(f"epoch {epoch + 1}: test loss {loss:.2f}, test accuracy {accuracy:.4f}, {time.perf_counter() - started:.2f} s", flush=True)


if __name__ == "__main__":
    main()
