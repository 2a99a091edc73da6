/**
 * The trained classifier as an ONNX graph (opset 13, onnx-proto), shaped as a
 * segmentation so a site runs it through its ordinary pipeline: the scan-level
 * probability p (logistic regression over the Hounsfield band fractions of
 * scan-features.ts) multiplies a soft body mask (smoothed HU above -500), so
 * the output is the body outline where p > 0.5 and empty otherwise.
 */
import { onnx } from 'onnx-proto';

import type { LogisticModel } from './logistic-regression';
import { BAND_SOFTNESS, HU_BANDS, INPUT_SIZE } from './scan-features';

export const INPUT_TENSOR = 'hu';
export const OUTPUT_TENSOR = 'probabilities';
const BODY_HU = -500;
const BODY_SOFTNESS = 50;

const FLOAT = onnx.TensorProto.DataType.FLOAT;
const INT64 = onnx.TensorProto.DataType.INT64;
const INTS = onnx.AttributeProto.AttributeType.INTS;
const INT = onnx.AttributeProto.AttributeType.INT;

class GraphBuilder {
  readonly nodes: onnx.INodeProto[] = [];
  readonly initializers: onnx.ITensorProto[] = [];
  #counter = 0;

  #name(prefix: string): string {
    this.#counter++;
    return `${prefix}_${String(this.#counter)}`;
  }

  constant(values: readonly number[], dims: readonly number[] = []): string {
    const name = this.#name('c');
    this.initializers.push({ name, dataType: FLOAT, dims: [...dims], floatData: [...values] });
    return name;
  }

  shape(values: readonly number[]): string {
    const name = this.#name('shape');
    this.initializers.push({ name, dataType: INT64, dims: [values.length], int64Data: [...values] });
    return name;
  }

  op(opType: string, input: readonly string[], attribute: readonly onnx.IAttributeProto[] = [], output?: string): string {
    const name = output ?? this.#name(opType.toLowerCase());
    this.nodes.push({ opType, input: [...input], output: [name], name, attribute: [...attribute] });
    return name;
  }

  /** sigmoid((x - at) / softness) */
  step(x: string, at: number, softness: number): string {
    return this.op('Sigmoid', [this.op('Mul', [this.op('Sub', [x, this.constant([at])]), this.constant([1 / softness])])]);
  }
}

export function classifierGraph(model: LogisticModel, docString: string): Uint8Array {
  const g = new GraphBuilder();
  const fractions = HU_BANDS.map(([lower, upper]) => {
    const above = lower === -Infinity ? undefined : g.step(INPUT_TENSOR, lower, BAND_SOFTNESS);
    const belowUpper = upper === Infinity ? undefined : g.step(INPUT_TENSOR, upper, BAND_SOFTNESS);
    let band: string;
    if (above !== undefined && belowUpper !== undefined) band = g.op('Sub', [above, belowUpper]);
    else if (above !== undefined) band = above;
    else if (belowUpper !== undefined) band = g.op('Sub', [g.constant([1]), belowUpper]);
    else throw new Error('a band needs one finite edge');
    return g.op('ReduceMean', [band], [{ name: 'axes', type: INTS, ints: [2, 3] }, { name: 'keepdims', type: INT, i: 0 }]);
  });
  const d = HU_BANDS.length;
  const features = g.op('Concat', fractions, [{ name: 'axis', type: INT, i: 1 }]);
  const z = g.op('Mul', [g.op('Sub', [features, g.constant(Array.from(model.mean), [1, d])]), g.constant(Array.from(model.scale), [1, d])]);
  const logit = g.op('Add', [g.op('MatMul', [z, g.constant(Array.from(model.weights), [d, 1])]), g.constant([model.bias], [1])]);
  const pMap = g.op('Reshape', [g.op('Sigmoid', [logit]), g.shape([1, 1, 1, 1])]);
  const smoothed = g.op('AveragePool', [INPUT_TENSOR], [
    { name: 'kernel_shape', type: INTS, ints: [5, 5] }, { name: 'pads', type: INTS, ints: [2, 2, 2, 2] },
    { name: 'strides', type: INTS, ints: [1, 1] }, { name: 'count_include_pad', type: INT, i: 0 }]);
  g.op('Mul', [g.step(smoothed, BODY_HU, BODY_SOFTNESS), pMap], [], OUTPUT_TENSOR);
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
      node: g.nodes,
      initializer: g.initializers,
      input: [{ name: INPUT_TENSOR, type: tensorType([1, 1, INPUT_SIZE, INPUT_SIZE]) }],
      output: [{ name: OUTPUT_TENSOR, type: tensorType([1, 1, INPUT_SIZE, INPUT_SIZE]) }],
    },
  };
  return onnx.ModelProto.encode(onnx.ModelProto.create(proto)).finish();
}
