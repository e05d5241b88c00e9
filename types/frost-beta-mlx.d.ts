// Declarations for the part of @frost-beta/mlx 0.0.7 that SolaceLive uses: the `core`
// namespace only. The package's own index.d.ts re-exports its .ts sources (nn,
// optimizers), which do not compile under strict mode, so tsconfig maps the module name
// here instead. Signatures follow what the 0.0.7 binary actually does (see
// ../shared/docs/mlx-binding-notes.md): `load` returns a record, `quantize` a triple,
// `saveGGUF` is spelled so, and there is no `triu`, `tidy` or `dispose`.
// Add an op here only after a test shows the binary has it.
declare module '@frost-beta/mlx' {
  export namespace core {
    type DeviceType = number;
    const cpu: DeviceType;
    const gpu: DeviceType;
    class Device { type: DeviceType; }
    type DeviceOrType = Device | DeviceType;
    function defaultDevice(): Device;
    function setDefaultDevice(device: DeviceOrType): void;

    class Stream { device: Device; }
    type StreamOrDevice = Stream | Device | DeviceType | undefined;
    function defaultStream(device: DeviceOrType): Stream;
    function newStream(device: DeviceOrType): Stream;
    function synchronize(s?: Stream): void;

    class Dtype { size: number; }
    const bool_: Dtype;
    const uint8: Dtype;
    const uint32: Dtype;
    const int8: Dtype;
    const int16: Dtype;
    const int32: Dtype;
    const int64: Dtype;
    const uint64: Dtype;
    const float16: Dtype;
    const float32: Dtype;
    const bfloat16: Dtype;

    interface Slice { start: number | null; stop: number | null; step: number | null; }
    function Slice(start?: number | null, stop?: number | null, step?: number | null): Slice;

    type Nested<T> = Nested<T>[] | T;
    type Scalar = boolean | number;
    type ScalarOrArray = Nested<Scalar | array>;
    type ArrayIndex = null | Slice | '...' | array | number;

    function array(value: ScalarOrArray, dtype?: Dtype): array;
    class array {
      constructor(value: ScalarOrArray, dtype?: Dtype);
      readonly dtype: Dtype;
      readonly ndim: number;
      readonly shape: number[];
      readonly size: number;
      readonly itemsize: number;
      readonly nbytes: number;
      readonly T: array;
      astype(dtype: Dtype, s?: StreamOrDevice): array;
      item(): Scalar;
      tolist(): Nested<Scalar>;
      reshape(...shape: (number | number[])[]): array;
      transpose(...axes: (number | number[])[]): array;
      squeeze(axis?: number | number[], s?: StreamOrDevice): array;
      swapaxes(axis1: number, axis2: number, s?: StreamOrDevice): array;
      flatten(startAxis?: number, endAxis?: number, s?: StreamOrDevice): array;
      sum(axis?: number | number[], keepdims?: boolean, s?: StreamOrDevice): array;
      max(axis?: number | number[], keepdims?: boolean, s?: StreamOrDevice): array;
      min(axis?: number | number[], keepdims?: boolean, s?: StreamOrDevice): array;
      mean(axis?: number | number[], keepdims?: boolean, s?: StreamOrDevice): array;
      argmax(axis?: number, keepdims?: boolean, s?: StreamOrDevice): array;
      argmin(axis?: number, keepdims?: boolean, s?: StreamOrDevice): array;
      square(s?: StreamOrDevice): array;
      sqrt(s?: StreamOrDevice): array;
      exp(s?: StreamOrDevice): array;
      abs(s?: StreamOrDevice): array;
      index(...index: ArrayIndex[]): array;
      indexPut_(index: ArrayIndex | ArrayIndex[], value: ScalarOrArray): array;
    }

    function abs(a: ScalarOrArray, s?: StreamOrDevice): array;
    function add(a: ScalarOrArray, b: ScalarOrArray, s?: StreamOrDevice): array;
    function addmm(c: ScalarOrArray, a: ScalarOrArray, b: ScalarOrArray, alpha?: number, beta?: number, s?: StreamOrDevice): array;
    function arange(start: number, stop?: number, step?: number, dtype?: Dtype, s?: StreamOrDevice): array;
    function arange(stop: number, dtype?: Dtype, s?: StreamOrDevice): array;
    function argmax(a: ScalarOrArray, axis?: number, keepdims?: boolean, s?: StreamOrDevice): array;
    function argmin(a: ScalarOrArray, axis?: number, keepdims?: boolean, s?: StreamOrDevice): array;
    function argsort(a: ScalarOrArray, axis?: number, s?: StreamOrDevice): array;
    function argpartition(a: ScalarOrArray, kth: number, axis?: number, s?: StreamOrDevice): array;
    function arrayEqual(a: ScalarOrArray, b: ScalarOrArray, equalNan?: boolean, s?: StreamOrDevice): array;
    function bitwiseOr(a: ScalarOrArray, b: ScalarOrArray, s?: StreamOrDevice): array;
    function broadcastTo(a: ScalarOrArray, shape: number | number[], s?: StreamOrDevice): array;
    function clip(a: ScalarOrArray, min: ScalarOrArray | null, max: ScalarOrArray | null, s?: StreamOrDevice): array;
    function concatenate(arrays: array[], axis?: number, s?: StreamOrDevice): array;
    function conv1d(input: array, weight: array, stride?: number, padding?: number, dilation?: number, groups?: number, s?: StreamOrDevice): array;
    function convGeneral(input: array, weight: array, stride?: number | number[], padding?: number | number[] | [number[], number[]], kernelDilation?: number | number[], inputDilation?: number | number[], groups?: number, flip?: boolean, s?: StreamOrDevice): array;
    function cos(a: ScalarOrArray, s?: StreamOrDevice): array;
    function cumsum(a: ScalarOrArray, axis?: number, reverse?: boolean, inclusive?: boolean, s?: StreamOrDevice): array;
    function dequantize(w: array, scales: array, biases: array, groupSize: number, bits: number, s?: StreamOrDevice): array;
    function divide(a: ScalarOrArray, b: ScalarOrArray, s?: StreamOrDevice): array;
    function equal(a: ScalarOrArray, b: ScalarOrArray, s?: StreamOrDevice): array;
    function erf(a: ScalarOrArray, s?: StreamOrDevice): array;
    function exp(a: ScalarOrArray, s?: StreamOrDevice): array;
    function expandDims(a: ScalarOrArray, dims: number | number[], s?: StreamOrDevice): array;
    function full(shape: number | number[], fillValue: ScalarOrArray, dtype?: Dtype, s?: StreamOrDevice): array;
    function greater(a: ScalarOrArray, b: ScalarOrArray, s?: StreamOrDevice): array;
    function greaterEqual(a: ScalarOrArray, b: ScalarOrArray, s?: StreamOrDevice): array;
    function isinf(a: ScalarOrArray, s?: StreamOrDevice): array;
    function isnan(a: ScalarOrArray, s?: StreamOrDevice): array;
    function leftShift(a: ScalarOrArray, b: ScalarOrArray, s?: StreamOrDevice): array;
    function less(a: ScalarOrArray, b: ScalarOrArray, s?: StreamOrDevice): array;
    function lessEqual(a: ScalarOrArray, b: ScalarOrArray, s?: StreamOrDevice): array;
    function log(a: ScalarOrArray, s?: StreamOrDevice): array;
    function logicalAnd(a: ScalarOrArray, b: ScalarOrArray, s?: StreamOrDevice): array;
    function logicalNot(a: ScalarOrArray, s?: StreamOrDevice): array;
    function logsumexp(a: ScalarOrArray, axis?: number | number[], keepdims?: boolean, s?: StreamOrDevice): array;
    function matmul(a: ScalarOrArray, b: ScalarOrArray, s?: StreamOrDevice): array;
    function max(a: ScalarOrArray, axis?: number | number[], keepdims?: boolean, s?: StreamOrDevice): array;
    function maximum(a: ScalarOrArray, b: ScalarOrArray, s?: StreamOrDevice): array;
    function mean(a: ScalarOrArray, axis?: number | number[], keepdims?: boolean, s?: StreamOrDevice): array;
    function min(a: ScalarOrArray, axis?: number | number[], keepdims?: boolean, s?: StreamOrDevice): array;
    function minimum(a: ScalarOrArray, b: ScalarOrArray, s?: StreamOrDevice): array;
    function multiply(a: ScalarOrArray, b: ScalarOrArray, s?: StreamOrDevice): array;
    function notEqual(a: ScalarOrArray, b: ScalarOrArray, s?: StreamOrDevice): array;
    function negative(a: ScalarOrArray, s?: StreamOrDevice): array;
    function ones(shape: number | number[], dtype?: Dtype, s?: StreamOrDevice): array;
    function pad(a: ScalarOrArray, padWidth: number | [number] | [number, number] | [number, number][], constantValue?: ScalarOrArray, s?: StreamOrDevice): array;
    function power(a: ScalarOrArray, exponent: ScalarOrArray, s?: StreamOrDevice): array;
    /** Returns [wq, scales, biases] in this binding. */
    function quantize(w: array, groupSize: number, bits: number, s?: StreamOrDevice): [array, array, array];
    function quantizedMatmul(x: array, w: array, scales: array, biases: array, transpose: boolean, groupSize: number, bits: number, s?: StreamOrDevice): array;
    function repeat(a: ScalarOrArray, repeats: number, axis?: number, s?: StreamOrDevice): array;
    function reshape(a: ScalarOrArray, ...shape: (number | number[])[]): array;
    function rsqrt(a: ScalarOrArray, s?: StreamOrDevice): array;
    function sigmoid(a: ScalarOrArray, s?: StreamOrDevice): array;
    function sin(a: ScalarOrArray, s?: StreamOrDevice): array;
    function softmax(a: ScalarOrArray, axis?: number | number[], precise?: boolean, s?: StreamOrDevice): array;
    function sort(a: ScalarOrArray, axis?: number, s?: StreamOrDevice): array;
    function split(a: ScalarOrArray, indicesOrSections: number | number[], axis?: number, s?: StreamOrDevice): array[];
    function sqrt(a: ScalarOrArray, s?: StreamOrDevice): array;
    function square(a: ScalarOrArray, s?: StreamOrDevice): array;
    function squeeze(a: ScalarOrArray, axis?: number | number[], s?: StreamOrDevice): array;
    function stack(arrays: array[], axis?: number, s?: StreamOrDevice): array;
    function subtract(a: ScalarOrArray, b: ScalarOrArray, s?: StreamOrDevice): array;
    function sum(a: ScalarOrArray, axis?: number | number[], keepdims?: boolean, s?: StreamOrDevice): array;
    function swapaxes(a: ScalarOrArray, axis1: number, axis2: number, s?: StreamOrDevice): array;
    function take(a: ScalarOrArray, indices: ScalarOrArray, axis?: number, s?: StreamOrDevice): array;
    function takeAlongAxis(a: ScalarOrArray, indices: ScalarOrArray, axis?: number, s?: StreamOrDevice): array;
    function tanh(a: ScalarOrArray, s?: StreamOrDevice): array;
    function tile(a: ScalarOrArray, reps: number[], s?: StreamOrDevice): array;
    function topk(a: ScalarOrArray, k: number, axis?: number, s?: StreamOrDevice): array;
    function transpose(a: ScalarOrArray, ...axes: (number | number[])[]): array;
    function tri(n: number, m?: number, k?: number, dtype?: Dtype, s?: StreamOrDevice): array;
    /** All arguments are required at run time in 0.0.7. */
    function tril(a: ScalarOrArray, k: number, s: StreamOrDevice): array;
    function where(condition: ScalarOrArray, x: ScalarOrArray, y: ScalarOrArray, s?: StreamOrDevice): array;
    function zeros(shape: number | number[], dtype?: Dtype, s?: StreamOrDevice): array;
    function zerosLike(a: ScalarOrArray, s?: StreamOrDevice): array;

    /** Lazy: nothing is read until evaluation. Validate file size against the header first. */
    function load(path: string, s?: StreamOrDevice): Record<string, array>;
    function load(path: string, s: StreamOrDevice, returnMetadata: true): [Record<string, array>, Record<string, string>];
    function saveSafetensors(path: string, arrays: Record<string, array>, metadata?: Record<string, string>): void;

    // `eval` cannot be declared in a namespace (reserved in strict mode): src/models/mlx.ts
    // exposes it as `evaluate`.
    function asyncEval(...args: unknown[]): void;
    function compile<T extends unknown[], U>(fn: (...args: T) => U, shapeless?: boolean): (...args: T) => U;

    namespace metal {
      function isAvailable(): boolean;
      function getActiveMemory(): number;
      function getPeakMemory(): number;
      function getCacheMemory(): number;
      function clearCache(): void;
      function deviceInfo(): Record<string, string | number>;
    }

    namespace random {
      function key(seed: number): array;
      function split(key: array, num?: number, s?: StreamOrDevice): array;
      function seed(seed: number): void;
      function categorical(logits: ScalarOrArray, axis?: number, shape?: number[] | undefined, numSamples?: number | undefined, key?: array, s?: StreamOrDevice): array;
      function gumbel(shape?: number[], dtype?: Dtype, key?: array, s?: StreamOrDevice): array;
      function normal(shape?: number[], dtype?: Dtype, loc?: number, scale?: number, key?: array, s?: StreamOrDevice): array;
      function uniform(low: ScalarOrArray, high: ScalarOrArray, shape?: number[], dtype?: Dtype, key?: array, s?: StreamOrDevice): array;
      function randint(low: ScalarOrArray, high: ScalarOrArray, shape?: number[], dtype?: Dtype, key?: array, s?: StreamOrDevice): array;
    }

    namespace fast {
      function rmsNorm(a: ScalarOrArray, weight: ScalarOrArray, eps: number, s?: StreamOrDevice): array;
      function layerNorm(a: ScalarOrArray, weight: ScalarOrArray | null, bias: ScalarOrArray | null, eps: number, s?: StreamOrDevice): array;
      function rope(a: ScalarOrArray, dims: number, traditional: boolean, base: number, scale: number, offset: number, s?: StreamOrDevice): array;
      function scaledDotProductAttention(q: ScalarOrArray, k: ScalarOrArray, v: ScalarOrArray, scale: number, mask?: ScalarOrArray, s?: StreamOrDevice): array;
    }

    const inf: number;
  }
}
