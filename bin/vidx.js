#!/usr/bin/env node
// Runs the TypeScript CLI directly (tsx), so `npm ci` is the only set-up step: no build.
import { register } from 'tsx/esm/api';

// The AWS SDK warns on every start under Node < 22 about its future support; vidx supports
// Node >= 20 today (the deployed Lambdas and worker run Node 22), so the CLI keeps stderr clean.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
register();
await import('../cli/main.ts');
