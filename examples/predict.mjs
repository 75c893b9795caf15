// Load a saved model and classify images with it: here the first ten MNIST test images. An image
// is 784 bytes (28×28, white digit on black, row by row, as in MNIST), or a raster of any size,
// { width, height, channels, data }, which is centred and scaled as MNIST's digits are first.
//
//   node predict.mjs [model.json]     (train-in-process.mjs writes one)
import { loadMnistTest, loadModel, predict, predictProba } from '@mnist-lr/core';

const model = loadModel(process.argv[2] ?? 'model.json');
const { test } = loadMnistTest();
const images = Array.from({ length: 10 }, (_, i) => test.images.subarray(i * 784, (i + 1) * 784));

const predicted = predict(model, images);
predicted.forEach((digit, i) => console.log(`test image ${i}: predicted ${digit}, labelled ${test.labels[i]}`));

const p = predictProba(model, images[0]);
console.log(`test image 0: probability ${p[predicted[0]].toFixed(3)} for ${predicted[0]}`);
