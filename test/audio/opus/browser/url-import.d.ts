// Vite's `?url` imports (the root tsconfig does not load vite/client types).
declare module '*.wasm?url' {
  const url: string;
  export default url;
}
