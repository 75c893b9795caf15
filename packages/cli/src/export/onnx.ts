/**
 * A trained model as an ONNX file: probabilities = Softmax(pixels · W + b).
 *
 * The input is what ONNX users feed a classifier, float32 [N, 784] scaled to [0, 1]; the output
 * float32 [N, 10] probabilities. In between the graph works in float64 with the model's own
 * float64 weights, unrounded (Cast → MatMul → Add → Softmax → Cast): rounding W to float32 would
 * move probabilities by up to about 1e-6 and could swap near-tied labels.
 *
 * Opset 13 and IR version 7 (ONNX 1.8, 2020): old enough for every onnxruntime release of the
 * last years to load, new enough for Softmax to act on one axis (opset 13 semantics).
 */
import protobuf from 'protobufjs';

import { CLASSES, PIXELS, type ModelFile } from '@mnist-lr/core/engine';

import { VERSION } from '../version.js';
import { ONNX_PROTO } from './onnx-schema.js';

export const ONNX_IR_VERSION = 7;
export const ONNX_OPSET = 13;
/** Names of the graph's input and output, as a runtime's `run` takes and returns them. */
export const ONNX_INPUT = 'pixels';
export const ONNX_OUTPUT = 'probabilities';

const FLOAT = 1;
const DOUBLE = 11;

/** The ONNX file's bytes for `model`. Deterministic: the same model gives the same bytes. */
export function toOnnx(model: ModelFile): Uint8Array {
  const ModelProto = protobuf.parse(ONNX_PROTO, { keepCase: true }).root.lookupType('onnx.ModelProto');
  const tensorInfo = (name: string, elemType: number, dims: (number | string)[], doc: string): object => ({
    name,
    doc_string: doc,
    type: { tensor_type: { elem_type: elemType, shape: { dim: dims.map((d) => (typeof d === 'number' ? { dim_value: d } : { dim_param: d })) } } },
  });
  const message = {
    ir_version: ONNX_IR_VERSION,
    opset_import: [{ domain: '', version: ONNX_OPSET }],
    producer_name: 'mnist-lr',
    producer_version: VERSION,
    doc_string: `Softmax regression on MNIST ("${model.name}", ${model.epochs} epochs, test accuracy ${model.testAccuracy}). Input: pixel/255 for the 784 pixels of 28×28 images, row by row, white digit on black.`,
    metadata_props: [
      { key: 'name', value: model.name },
      { key: 'dataset_sha256', value: model.dataset },
      { key: 'epochs', value: String(model.epochs) },
      { key: 'test_accuracy', value: String(model.testAccuracy) },
    ],
    graph: {
      name: 'mnist_lr',
      input: [tensorInfo(ONNX_INPUT, FLOAT, ['N', PIXELS], 'N images of 28×28 pixels, row by row, each pixel/255 in [0, 1]')],
      output: [tensorInfo(ONNX_OUTPUT, FLOAT, ['N', CLASSES], 'probability of each digit 0..9')],
      initializer: [
        { name: 'W', data_type: DOUBLE, dims: [PIXELS, CLASSES], raw_data: littleEndian(model.weights.W) },
        { name: 'b', data_type: DOUBLE, dims: [CLASSES], raw_data: littleEndian(model.weights.b) },
      ],
      node: [
        { op_type: 'Cast', name: 'to_double', input: [ONNX_INPUT], output: ['x'], attribute: [{ name: 'to', type: 2, i: DOUBLE }] },
        { op_type: 'MatMul', name: 'xW', input: ['x', 'W'], output: ['xW'] },
        { op_type: 'Add', name: 'logits', input: ['xW', 'b'], output: ['logits'] },
        { op_type: 'Softmax', name: 'softmax', input: ['logits'], output: ['p'], attribute: [{ name: 'axis', type: 2, i: 1 }] },
        { op_type: 'Cast', name: 'to_float', input: ['p'], output: [ONNX_OUTPUT], attribute: [{ name: 'to', type: 2, i: FLOAT }] },
      ],
    },
  };
  return ModelProto.encode(ModelProto.fromObject(message)).finish();
}

/** Float64 values as little-endian bytes, as ONNX's raw_data requires whatever the host. */
function littleEndian(values: Float64Array): Uint8Array {
  const out = new Uint8Array(values.length * 8);
  const view = new DataView(out.buffer);
  values.forEach((v, i) => view.setFloat64(i * 8, v, true));
  return out;
}
