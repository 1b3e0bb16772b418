// The job's result file and its outputs: everything is checked before anything is published, then
// every output goes to its deterministic key. An output is a regular file, or a folder published as
// a tree: each file under `<output key>.d/<path>` and, at the output's own key, a manifest listing
// every file with its sha256 (format dual-ipo/tree@1). Links are refused in both.
import { existsSync } from 'node:fs';
import { lstat, readFile, readdir, realpath } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve } from 'node:path';
import type { ArtifactRef } from '../../artifacts/types';
import { stableStringify } from '../../artifacts/stable-json';
import { validateKey } from '../../artifacts/store';
import { missingOutputs, type StageContext, type StageOutput } from '../contract';
import { CommandJobError } from './errors';

export const TREE_FORMAT = 'dual-ipo/tree@1';

export interface TreeManifest {
  format: typeof TREE_FORMAT;
  files: Array<{ path: string; sha256: string; size: number }>;
}

/** Where a tree output's files live in the store, beside its manifest. */
export const treeFilesKey = (outputKey: string, path: string) => `${outputKey}.d/${path}`;

/** A reference to a tree's manifest says so in its summary; the manifest's `format` confirms it. */
export const isTreeRef = (ref: ArtifactRef) => ref.summary?.format === TREE_FORMAT;

interface ResultFile {
  outputs?: Record<string, { path?: unknown; summary?: ArtifactRef['summary'] }>;
  metrics?: Record<string, unknown>;
}

/**
 * Python's json.dumps writes NaN and Infinity as bare tokens, which JSON does not allow. A diverged
 * trainer must reach the abnormal-loss gate, not fail on syntax, so those tokens are read as null.
 */
export function parseResult(text: string): ResultFile {
  try {
    return JSON.parse(text) as ResultFile;
  } catch (err) {
    const relaxed = text.replace(/(?<=[:,[]\s*)-?(?:NaN|Infinity)(?=\s*[,}\]])/g, 'null');
    if (relaxed === text) throw err;
    return JSON.parse(relaxed) as ResultFile;
  }
}

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

interface PlannedOutput {
  name: string;
  path: string;
  summary: ArtifactRef['summary'];
  /** Relative paths of a folder output's files, sorted; absent for a file. */
  tree?: string[];
}

/** Every regular file under `dir`, relative and sorted; a link or anything else is refused. */
async function treeFiles(dir: string, label: string, name: string): Promise<string[]> {
  const files: string[] = [];
  const walk = async (sub: string) => {
    for (const entry of await readdir(join(dir, sub), { withFileTypes: true })) {
      const rel = sub ? `${sub}/${entry.name}` : entry.name;
      if (entry.isSymbolicLink()) throw new CommandJobError(`${label}: result output "${name}" folder holds a symbolic link (${rel}); outputs must be regular files`, true);
      if (entry.isDirectory()) await walk(rel);
      else if (entry.isFile()) files.push(rel);
      else throw new CommandJobError(`${label}: result output "${name}" folder holds ${rel}, which is not a regular file`, true);
    }
  };
  await walk('');
  return files.sort();
}

/**
 * Reads and checks the job's result before anything is published: the schema, the stage's required
 * outputs, and that every output is a regular file or a folder of regular files inside the output
 * folder (no links, no way out through a linked folder). Throws a non-retryable CommandJobError
 * naming the first problem.
 */
export async function readResult(ctx: StageContext, resultPath: string, outputDir: string, label: string): Promise<{ planned: PlannedOutput[]; metrics: Record<string, number> }> {
  let parsed: unknown;
  try {
    parsed = parseResult(await readFile(resultPath, 'utf8'));
  } catch (err) {
    throw new CommandJobError(`${label}: exited 0 but its result file ${resultPath} is ${existsSync(resultPath) ? `not valid JSON (${(err as Error).message})` : 'missing'}`, true);
  }
  if (!isPlainObject(parsed)) throw new CommandJobError(`${label}: result file ${resultPath} is not a JSON object`, true);
  if (parsed.outputs !== undefined && !isPlainObject(parsed.outputs)) throw new CommandJobError(`${label}: result "outputs" is not an object of name -> { path, summary? }`, true);
  if (parsed.metrics !== undefined && !isPlainObject(parsed.metrics)) throw new CommandJobError(`${label}: result "metrics" is not an object of name -> number`, true);
  const metrics: Record<string, number> = {};
  for (const [name, value] of Object.entries(parsed.metrics ?? {})) {
    // null stands for NaN/Infinity (see parseResult): kept as NaN so the runner counts it as non-finite.
    if (value === null) metrics[name] = Number.NaN;
    else if (typeof value === 'number') metrics[name] = value;
    else throw new CommandJobError(`${label}: result metric "${name}" is not a number (${JSON.stringify(value)})`, true);
  }
  const outputs = (parsed.outputs ?? {}) as Record<string, unknown>;
  const missing = missingOutputs(ctx.request.stage, outputs);
  if (missing.length > 0) {
    throw new CommandJobError(`${label}: result lacks the output${missing.length > 1 ? 's' : ''} ${missing.map((m) => `"${m}"`).join(', ')} that stage ${ctx.request.stage} must return (got: ${Object.keys(outputs).join(', ') || 'none'})`, true);
  }
  const realOutputDir = await realpath(outputDir);
  const planned: PlannedOutput[] = [];
  for (const [name, out] of Object.entries(outputs)) {
    if (!isPlainObject(out) || typeof out.path !== 'string') throw new CommandJobError(`${label}: result output "${name}" has no "path"`, true);
    if (out.summary !== undefined && !isPlainObject(out.summary)) throw new CommandJobError(`${label}: result output "${name}" has a "summary" that is not an object`, true);
    const path = resolve(outputDir, out.path);
    const rel = relative(outputDir, path);
    if (rel === '' || rel.startsWith('..') || isAbsolute(rel)) throw new CommandJobError(`${label}: result output "${name}" path "${out.path}" escapes the output folder`, true);
    const info = await lstat(path).catch(() => undefined);
    if (!info) throw new CommandJobError(`${label}: result output "${name}" file ${path} does not exist`, true);
    // A link (or a file reached through a linked folder) would publish whatever it points at.
    if (info.isSymbolicLink()) throw new CommandJobError(`${label}: result output "${name}" file ${path} is a symbolic link; outputs must be regular files`, true);
    if (!info.isFile() && !info.isDirectory()) throw new CommandJobError(`${label}: result output "${name}" ${path} is not a regular file or a folder`, true);
    const realRel = relative(realOutputDir, await realpath(path));
    if (realRel.startsWith('..') || isAbsolute(realRel)) throw new CommandJobError(`${label}: result output "${name}" path "${out.path}" leads out of the output folder through a link`, true);
    const summary = out.summary as ArtifactRef['summary'];
    if (info.isFile()) {
      planned.push({ name, path, summary });
      continue;
    }
    const tree = await treeFiles(path, label, name);
    for (const file of tree) {
      try {
        validateKey(treeFilesKey(ctx.outputKey(name), file));
      } catch (err) {
        throw new CommandJobError(`${label}: result output "${name}" folder holds ${file}, whose name the artifact store refuses (${(err as Error).message})`, true);
      }
    }
    planned.push({ name, path, summary, tree });
  }
  return { planned, metrics };
}

/** Publishes a folder: its files, then the manifest at the output's key (the commit point of the tree). */
async function publishTree(ctx: StageContext, out: PlannedOutput & { tree: string[] }): Promise<ArtifactRef> {
  const key = ctx.outputKey(out.name);
  const manifest: TreeManifest = { format: TREE_FORMAT, files: [] };
  for (const file of out.tree) {
    const ref = await ctx.store.putFile(treeFilesKey(key, file), join(out.path, file));
    manifest.files.push({ path: file, sha256: ref.sha256, size: ref.size });
  }
  const bytes = manifest.files.reduce((sum, f) => sum + f.size, 0);
  return ctx.store.put(key, stableStringify(manifest, 1), { summary: { ...(out.summary ?? {}), format: TREE_FORMAT, files: manifest.files.length, bytes } });
}

export async function collectResult(ctx: StageContext, resultPath: string, outputDir: string, label: string): Promise<StageOutput> {
  // Validate everything before publishing anything: a bad result leaves the store untouched.
  const { planned, metrics } = await readResult(ctx, resultPath, outputDir, label);
  const outputs: Record<string, ArtifactRef> = {};
  for (const out of planned) {
    outputs[out.name] = out.tree ? await publishTree(ctx, { ...out, tree: out.tree }) : await ctx.store.putFile(ctx.outputKey(out.name), out.path, out.summary ? { summary: out.summary } : undefined);
  }
  return { outputs, metrics };
}
