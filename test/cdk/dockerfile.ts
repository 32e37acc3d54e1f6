/** A small Dockerfile reader for the tests: instructions with continuations joined, comments dropped. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../../cdk/paths.ts';

export interface Instruction {
  readonly keyword: string;
  readonly args: string;
}

export function readDockerfile(path = join(REPO_ROOT, 'gpu-worker', 'Dockerfile')): Instruction[] {
  const logical: string[] = [];
  let current = '';
  for (const raw of readFileSync(path, 'utf8').split('\n')) {
    const line = raw.trimEnd();
    if (current === '' && /^\s*#/.test(line)) continue; // comment (or parser directive)
    if (current !== '' && /^\s*#/.test(line)) continue; // comment inside a continuation
    if (line.endsWith('\\')) {
      current += `${line.slice(0, -1)} `;
      continue;
    }
    current += line;
    if (current.trim() !== '') logical.push(current.trim());
    current = '';
  }
  return logical.map((l) => {
    const m = /^(\S+)\s+([\s\S]*)$/.exec(l);
    if (!m) throw new Error(`unreadable Dockerfile line: ${l}`);
    return { keyword: m[1]!.toUpperCase(), args: m[2]! };
  });
}

/** ENV of the final stage: KEY=value pairs (values may be quoted, ${ARG} left as written). */
export function finalStageEnv(instructions: readonly Instruction[]): Record<string, string> {
  const lastFrom = instructions.map((i) => i.keyword).lastIndexOf('FROM');
  const env: Record<string, string> = {};
  for (const i of instructions.slice(lastFrom)) {
    if (i.keyword !== 'ENV') continue;
    for (const m of i.args.matchAll(/([A-Za-z_][A-Za-z0-9_]*)=("([^"]*)"|\S+)/g)) env[m[1]!] = m[3] ?? m[2]!;
  }
  return env;
}

/** The exec-form ENTRYPOINT (+ CMD) of the image as an argv array. */
export function imageCommand(instructions: readonly Instruction[]): string[] {
  const exec = (keyword: string) => {
    const found = instructions.filter((i) => i.keyword === keyword).at(-1);
    if (!found) return [];
    const parsed: unknown = JSON.parse(found.args);
    if (!Array.isArray(parsed) || !parsed.every((x) => typeof x === 'string')) throw new Error(`${keyword} is not in exec form`);
    return parsed as string[];
  };
  return [...exec('ENTRYPOINT'), ...exec('CMD')];
}
