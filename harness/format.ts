// Public entry of the session format for browser code (the viewer): reader, types, hashes.
// Browser-safe by construction; Node code (writer, folders on disk) imports
// ./format/node.ts instead. The on-disk layout is specified in ./format/README.md.
export * from './format/index.ts';
