/**
 * The trained classifier as an ONNX graph (opset 13, onnx-proto), shaped as a
 * segmentation so a site runs it through its ordinary pipeline: the scan-level
 * probability p (logistic regression over the block-mean features of
 * scan-features.ts) multiplies a soft body mask (smoothed HU above -500), so
 * the output is the body outline where p > 0.5 and empty otherwise.
 */
import { onnx } from 'onnx-proto';

import { GRID, HU_CLIP, INPUT_SIZE } from './scan-features';
import type { LogisticModel } from './logistic-regression';

export const INPUT_TENSOR = 'hu';
export const OUTPUT_TENSOR = 'probabilities';
const BODY_HU = -500;
const BODY_SOFTNESS = 50;

const FLOAT = onnx.TensorProto.DataType.FLOAT;
const INT64 = onnx.TensorProto.DataType.INT64;
const INTS = onnx.AttributeProto.AttributeType.INTS;
const INT = onnx.AttributeProto.AttributeType.INT;

export function classifierGraph(model: LogisticModel, docString: string): Uint8Array {
  const nodes: onnx.INodeProto[] = [];
  const initializers: onnx.ITensorProto[] = [
    { name: 'hu_clip_min', dataType: FLOAT, dims: [], floatData: [-HU_CLIP] },
    { name: 'hu_clip_max', dataType: FLOAT, dims: [], floatData: [HU_CLIP] },
    { name: 'hu_scale', dataType: FLOAT, dims: [], floatData: [1 / HU_CLIP] },
    { name: 'flat_shape', dataType: INT64, dims: [2], int64Data: [1, GRID * GRID] },
    { name: 'map_shape', dataType: INT64, dims: [4], int64Data: [1, 1, 1, 1] },
    { name: 'weights', dataType: FLOAT, dims: [GRID * GRID, 1], floatData: Array.from(model.weights) },
    { name: 'bias', dataType: FLOAT, dims: [1], floatData: [model.bias] },
    { name: 'body_at', dataType: FLOAT, dims: [], floatData: [BODY_HU] },
    { name: 'body_gain', dataType: FLOAT, dims: [], floatData: [1 / BODY_SOFTNESS] },
  ];
  const node = (opType: string, input: string[], output: string, attribute: onnx.IAttributeProto[] = []): void => {
    nodes.push({ opType, input, output: [output], name: output, attribute });
  };
  const block = INPUT_SIZE / GRID;
  node('AveragePool', [INPUT_TENSOR], 'block_mean', [
    { name: 'kernel_shape', type: INTS, ints: [block, block] }, { name: 'strides', type: INTS, ints: [block, block] }]);
  node('Clip', ['block_mean', 'hu_clip_min', 'hu_clip_max'], 'clipped');
  node('Mul', ['clipped', 'hu_scale'], 'features_grid');
  node('Reshape', ['features_grid', 'flat_shape'], 'features');
  node('MatMul', ['features', 'weights'], 'weighted');
  node('Add', ['weighted', 'bias'], 'logit');
  node('Sigmoid', ['logit'], 'p');
  node('Reshape', ['p', 'map_shape'], 'p_map');
  node('AveragePool', [INPUT_TENSOR], 'smoothed', [
    { name: 'kernel_shape', type: INTS, ints: [5, 5] }, { name: 'pads', type: INTS, ints: [2, 2, 2, 2] },
    { name: 'strides', type: INTS, ints: [1, 1] }, { name: 'count_include_pad', type: INT, i: 0 }]);
  node('Sub', ['smoothed', 'body_at'], 'above_air');
  node('Mul', ['above_air', 'body_gain'], 'body_logit');
  node('Sigmoid', ['body_logit'], 'body');
  node('Mul', ['body', 'p_map'], OUTPUT_TENSOR);
  const tensorType = (dims: readonly number[]): onnx.ITypeProto => ({
    tensorType: { elemType: FLOAT, shape: { dim: dims.map((dimValue) => ({ dimValue })) } },
  });
  const proto: onnx.IModelProto = {
    irVersion: 7,
    opsetImport: [{ domain: '', version: 13 }],
    producerName: 'orthanc-ai-bridge central training',
    producerVersion: '1',
    docString,
    graph: {
      name: OUTPUT_TENSOR,
      node: nodes,
      initializer: initializers,
      input: [{ name: INPUT_TENSOR, type: tensorType([1, 1, INPUT_SIZE, INPUT_SIZE]) }],
      output: [{ name: OUTPUT_TENSOR, type: tensorType([1, 1, INPUT_SIZE, INPUT_SIZE]) }],
    },
  };
  return onnx.ModelProto.encode(onnx.ModelProto.create(proto)).finish();
}
