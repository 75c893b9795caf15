// Classifies a picture with a saved model: node predict-image.mjs MODEL.json
// The picture here is drawn in code, as a canvas or an image decoder would hand it over.
import { loadModel, predict, predictProba } from '@mnist-lr/core';

const model = loadModel(process.argv[2] ?? 'models/config_sample.model.json');

// A raster of any size: `channels` bytes a pixel (1 gray, 2 gray+alpha, 3 RGB, 4 RGBA), row by
// row, as pngjs, jpeg-js or a canvas's ImageData give them. This one is a dark stroke on white
// paper, 120×160, well off centre: predict() crops, scales and centres it as MNIST's images were.
const width = 120;
const height = 160;
const data = new Uint8Array(width * height * 4).fill(255);
for (let y = 10; y < 110; y++) {
  for (let x = 10; x < 24; x++) data.fill(30, (y * width + x) * 4, (y * width + x) * 4 + 3);
}
const image = { width, height, channels: 4, data };

const label = predict(model, image); // 0..9
const probabilities = predictProba(model, image); // Float64Array(10)
console.log(`it reads ${label}, with probability ${probabilities[label].toFixed(3)}`);

// 784 bare bytes are taken as a 28×28 MNIST image; an array of images is a batch.
const blank = new Uint8Array(784);
console.log(`a batch: ${predict(model, [image, blank]).join(', ')}`);
