// Types for the Emscripten factory inside opusscript (the package's own index.js wraps it
// with Node's Buffer and a synchronous file read, so browser code calls the factory itself).
declare module 'opusscript/build/opusscript_native_wasm.js' {
  export interface OpusscriptHandler {
    _encode(inPtr: number, bytes: number, outPtr: number, frameSize: number): number;
    _decode(inPtr: number, bytes: number, outPtr: number): number;
    _encoder_ctl(ctl: number, arg: number): number;
    _decoder_ctl(ctl: number, arg: number): number;
  }
  export interface OpusscriptNative {
    readonly ready: Promise<OpusscriptNative>;
    readonly OpusScriptHandler: {
      new (sampleRate: number, channels: number, application: number): OpusscriptHandler;
      destroy_handler(handler: OpusscriptHandler): void;
    };
    _malloc(bytes: number): number;
    _free(ptr: number): void;
    readonly HEAPU8: Uint8Array;
    readonly HEAPU16: Uint16Array;
    readonly HEAP32: Int32Array;
  }
  export interface OpusscriptModuleOptions {
    instantiateWasm?(imports: WebAssembly.Imports, receive: (instance: WebAssembly.Instance) => unknown): object;
    print?(text: string): void;
    printErr?(text: string): void;
  }
  const factory: (options?: OpusscriptModuleOptions) => OpusscriptNative;
  export default factory;
}
