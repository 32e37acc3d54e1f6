// Preloaded with `node --import` by tests: any import of a heavy package (the ONNX runtime, the
// AWS SDK, the emulators, protobuf graph building) fails, so a command that needs none of them
// proves it loads none of them.
import { register } from 'node:module';

const FORBIDDEN = ['onnxruntime-node', '@aws-sdk/', 'fauxqs', 'dynalite', 'onnx-proto', 'sqs-consumer', '@aws-lambda-powertools/'];
const hooks = `
const FORBIDDEN = ${JSON.stringify(FORBIDDEN)};
export async function resolve(specifier, context, next) {
  if (FORBIDDEN.some((f) => specifier === f || specifier.startsWith(f.endsWith('/') ? f : f + '/'))) {
    throw new Error('forbidden heavy import: ' + specifier);
  }
  return next(specifier, context);
}`;
register(`data:text/javascript,${encodeURIComponent(hooks)}`);
