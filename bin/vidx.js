#!/usr/bin/env node
// Runs the TypeScript CLI directly (tsx), so `npm ci` is the only set-up step: no build.
import { register } from 'tsx/esm/api';

register();
await import('../cli/main.ts');
