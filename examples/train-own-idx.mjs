// Train on your own IDX files: a folder holding train-images-idx3-ubyte, train-labels-idx1-ubyte,
// t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte (or with dots before "idx", each may be .gz),
// 28×28 images of unsigned bytes and labels 0..9, of any counts.
//
//   node train-own-idx.mjs DIR
import { isMnistLrError, loadTrainingData, train } from '@mnist-lr/core';

const dir = process.argv[2];
if (!dir) {
  console.error('usage: node train-own-idx.mjs DIR (a folder with the four IDX files)');
  process.exit(2);
}

try {
  // Loading checks every header, length and label: a bad file is a coded error naming it.
  const data = loadTrainingData({ dataDir: dir });
  console.log(`${data.train.count} training and ${data.test.count} test images, fingerprint ${data.fingerprint.slice(0, 12)}`);
  const config = { num_epoches: 3, batch_size: 10, learning_rate: 0.005, learning_decay: 0, decay_factor: 0.75, momentum: 0, mu: 0.9 };
  const { history } = await train({ config, data });
  for (const m of history) console.log(`epoch ${m.epoch}: test accuracy ${m.testAccuracy.toFixed(4)}`);
} catch (e) {
  if (!isMnistLrError(e)) throw e;
  console.error(`error [${e.code}]: ${e.message}`);
  process.exit(1);
}
