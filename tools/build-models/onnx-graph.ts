/**
 * A small builder for ONNX graphs made of explicit operations (opset 13),
 * written with onnx-proto. Serialisation is deterministic: the same calls
 * give the same bytes, which `--check` relies on.
 */
import { onnx } from 'onnx-proto';

const OPSET = 13;
const IR_VERSION = 7;

export class OnnxGraph {
  readonly #nodes: onnx.INodeProto[] = [];
  readonly #initializers: onnx.ITensorProto[] = [];
  #counter = 0;

  constructor(readonly inputName: string, readonly rows: number, readonly columns: number) {}

  #name(prefix: string): string {
    this.#counter++;
    return `${prefix}_${String(this.#counter)}`;
  }

  constant(value: number): string {
    const name = this.#name('c');
    this.#initializers.push({ name, dataType: onnx.TensorProto.DataType.FLOAT, dims: [], floatData: [value] });
    return name;
  }

  op(opType: string, inputs: readonly string[], attributes: readonly onnx.IAttributeProto[] = []): string {
    const output = this.#name(opType.toLowerCase());
    this.#nodes.push({ opType, input: [...inputs], output: [output], name: output, attribute: [...attributes] });
    return output;
  }

  /** A soft step: sigmoid((x - at) / softness), rising (up) or falling at `at`. */
  step(x: string, at: number, softness: number, direction: 'up' | 'down'): string {
    const shifted = this.op('Sub', [x, this.constant(at)]);
    return this.op('Sigmoid', [this.op('Mul', [shifted, this.constant((direction === 'up' ? 1 : -1) / softness)])]);
  }

  #pool(opType: 'MaxPool' | 'AveragePool', x: string, size: number): string {
    const half = Math.floor(size / 2);
    const attributes: onnx.IAttributeProto[] = [
      { name: 'kernel_shape', type: onnx.AttributeProto.AttributeType.INTS, ints: [size, size] },
      { name: 'pads', type: onnx.AttributeProto.AttributeType.INTS, ints: [half, half, half, half] },
      { name: 'strides', type: onnx.AttributeProto.AttributeType.INTS, ints: [1, 1] },
    ];
    if (opType === 'AveragePool') attributes.push({ name: 'count_include_pad', type: onnx.AttributeProto.AttributeType.INT, i: 0 });
    return this.op(opType, [x], attributes);
  }

  /** Mean over a size x size neighbourhood (edge pixels average what exists). */
  smooth(x: string, size: number): string {
    return this.#pool('AveragePool', x, size);
  }

  /** Grey-level dilation: the maximum over the neighbourhood. */
  dilate(x: string, size: number): string {
    return this.#pool('MaxPool', x, size);
  }

  /** Grey-level erosion: the minimum, as -max(-x). */
  erode(x: string, size: number): string {
    return this.op('Neg', [this.#pool('MaxPool', this.op('Neg', [x]), size)]);
  }

  /** Opening removes specks smaller than the element; closing bridges gaps narrower than it. */
  open(x: string, size: number): string {
    return this.dilate(this.erode(x, size), size);
  }

  close(x: string, size: number): string {
    return this.erode(this.dilate(x, size), size);
  }

  multiply(a: string, b: string): string {
    return this.op('Mul', [a, b]);
  }

  /** Serialises with `channels` as the output's second dimension, named outputName. */
  toBytes(channels: readonly string[], outputName: string, docString: string, producerVersion: string): Uint8Array {
    const concat: onnx.INodeProto = {
      opType: 'Concat', input: [...channels], output: [outputName], name: outputName,
      attribute: [{ name: 'axis', type: onnx.AttributeProto.AttributeType.INT, i: 1 }],
    };
    const tensorType = (dims: readonly number[]): onnx.ITypeProto => ({
      tensorType: { elemType: onnx.TensorProto.DataType.FLOAT, shape: { dim: dims.map((dimValue) => ({ dimValue })) } },
    });
    const model: onnx.IModelProto = {
      irVersion: IR_VERSION,
      opsetImport: [{ domain: '', version: OPSET }],
      producerName: 'orthanc-ai-bridge tools/build-models',
      producerVersion,
      docString,
      graph: {
        name: outputName,
        node: [...this.#nodes, concat],
        initializer: this.#initializers,
        input: [{ name: this.inputName, type: tensorType([1, 1, this.rows, this.columns]) }],
        output: [{ name: outputName, type: tensorType([1, channels.length, this.rows, this.columns]) }],
      },
    };
    return onnx.ModelProto.encode(onnx.ModelProto.create(model)).finish();
  }
}
