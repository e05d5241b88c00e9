// The AudioWorkletGlobalScope names the worklets use: TypeScript's DOM library describes
// the window's side (AudioWorkletNode) but not the scope a processor runs in.
export interface ProcessorPort {
  postMessage(message: unknown, transfer?: Transferable[]): void;
  onmessage: ((e: MessageEvent) => void) | null;
}

export interface ProcessorBase {
  readonly port: ProcessorPort;
}

interface WorkletScope {
  readonly sampleRate: number;
  readonly currentTime: number;
  readonly AudioWorkletProcessor: new () => ProcessorBase;
  registerProcessor(name: string, ctor: new () => ProcessorBase & { process(inputs: Float32Array[][], outputs: Float32Array[][]): boolean }): void;
}

export const scope = globalThis as unknown as WorkletScope;
