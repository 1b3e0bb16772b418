// `dual-ipo prompts` and `dual-ipo evaluate`: the reference world from the command line.
import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { parse, requireString, UsageError, type Options } from './args';
import { evaluateVideos, VBENCH_DIMENSIONS, type EvalItem } from '../world/evaluator';
import { formatSummary, samplePrompts, summarizePrompts, type DifficultyWeights, type SampleOptions } from '../world/prompts';
import { renderVideo } from '../world/render';
import { validateSpec, type Prompt, type Video } from '../world/spec';
import { readVideoFile, VIDEO_EXTENSION, writeFileAtomic, writeVideoWithPreview } from '../world/video-io';

export const PROMPTS_OPTIONS = {
  count: { type: 'string' },
  seed: { type: 'string' },
  start: { type: 'string' },
  weights: { type: 'string' },
  difficulty: { type: 'string' },
  'summary-only': { type: 'boolean' },
  quiet: { type: 'boolean' },
  render: { type: 'string' },
  frames: { type: 'string' },
  size: { type: 'string' },
  'render-seed': { type: 'string' },
} as const satisfies Options;

export const PROMPTS_HELP = `Usage: dual-ipo prompts --count N --seed S [options]

Prints prompts of the reference world as JSON lines {id, text, spec, difficulty, category} on
stdout, and their distribution (category, difficulty, ... shares against the targets) on stderr.

Options:
  --count N            number of prompts (required)
  --seed S             seed, a number or any string (required); prompt i depends on (seed, i) only
  --start I            index of the first prompt (default 0), to continue a stream
  --weights JSON       target weights per facet, e.g. '{"category":{"figure":1,"animal":1,"object":1}}'
                       (facets: category, subjectCount, sceneKind, style, speed, size)
  --difficulty W       difficulty mix, e.g. simple=0.6,medium=0.3,difficult=0.1
  --summary-only       print only the distribution summary, on stdout
  --quiet              no summary on stderr
  --render DIR         also render each prompt's ground-truth video to DIR/<id>.dipv and DIR/<id>.gif
                       (and write DIR/prompts.jsonl)
  --frames T           frames per rendered video (default 16)
  --size S             frame side in pixels (default 32)
  --render-seed S      seed of the renders' natural variation (default: the prompt seed)
  -h, --help           this help`;

export const EVALUATE_OPTIONS = { videos: { type: 'string' }, prompts: { type: 'string' }, json: { type: 'boolean' }, 'per-video': { type: 'boolean' } } as const satisfies Options;

export const EVALUATE_HELP = `Usage: dual-ipo evaluate --videos PATH --prompts FILE [--json]

Scores videos with the reference world's VBench-style evaluator: the 16 VBench dimensions and
VBench's Total / Quality / Semantic scores.

Options:
  --videos PATH        a .dipv file (one or more videos, with ids) or a folder of .dipv files;
                       a video belongs to the prompt whose id is its id (or file name), optionally
                       followed by a suffix such as "#2" or ".2" for several samples of one prompt
  --prompts FILE       the prompts, as JSON lines (the output of \`dual-ipo prompts\`) or a JSON array
  --json               print the result as JSON
  --per-video          with --json, include per-video scores
  -h, --help           this help`;

function integer(values: Record<string, unknown>, name: string, help: string, fallback?: number): number {
  const raw = values[name];
  if (raw === undefined) {
    if (fallback === undefined) throw new UsageError(`missing --${name}\n\n${help}`);
    return fallback;
  }
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw new UsageError(`--${name} must be an integer >= 0, got "${String(raw)}"\n\n${help}`);
  return n;
}

function parseDifficulty(text: string, help: string): DifficultyWeights {
  const out: Record<string, number> = { simple: 0, medium: 0, difficult: 0 };
  for (const part of text.split(',')) {
    const [key, value] = part.split('=');
    if (!key || !(key in out) || value === undefined || !(Number(value) >= 0)) throw new UsageError(`--difficulty: expected simple=W,medium=W,difficult=W with weights >= 0, got "${text}"\n\n${help}`);
    out[key] = Number(value);
  }
  return out as DifficultyWeights;
}

export async function promptsCommand(argv: string[]): Promise<number> {
  const { values, help } = parse(argv, PROMPTS_OPTIONS, PROMPTS_HELP);
  if (help) {
    console.log(PROMPTS_HELP);
    return 0;
  }
  const count = integer(values, 'count', PROMPTS_HELP);
  const seedText = requireString(values, 'seed', PROMPTS_HELP);
  const seed = /^-?\d+$/.test(seedText) ? Number(seedText) : seedText;
  const options: SampleOptions = { count, seed, startIndex: integer(values, 'start', PROMPTS_HELP, 0) };
  if (typeof values.weights === 'string') {
    try {
      options.weights = JSON.parse(values.weights) as SampleOptions['weights'];
    } catch (err) {
      throw new UsageError(`--weights: not JSON (${(err as Error).message})\n\n${PROMPTS_HELP}`);
    }
  }
  if (typeof values.difficulty === 'string') options.difficultySchedule = parseDifficulty(values.difficulty, PROMPTS_HELP);
  let prompts: Prompt[];
  try {
    prompts = samplePrompts(options);
  } catch (err) {
    throw new UsageError(`${(err as Error).message}\n\n${PROMPTS_HELP}`);
  }
  const summary = formatSummary(summarizePrompts(prompts, options));
  if (values['summary-only']) {
    console.log(summary);
    return 0;
  }
  const lines = prompts.map((p) => JSON.stringify(p));
  for (const line of lines) process.stdout.write(`${line}\n`);
  if (typeof values.render === 'string') {
    const dir = values.render;
    const frames = integer(values, 'frames', PROMPTS_HELP, 16);
    const size = integer(values, 'size', PROMPTS_HELP, 32);
    const renderSeed = typeof values['render-seed'] === 'string' ? values['render-seed'] : seedText;
    for (const p of prompts) await writeVideoWithPreview(join(dir, p.id), renderVideo(p.spec, { seed: `${renderSeed}/${p.id}`, frames, size }), { id: p.id, meta: { promptId: p.id, origin: 'ground truth' } });
    await writeFileAtomic(join(dir, 'prompts.jsonl'), lines.join('\n') + '\n');
    if (!values.quiet) console.error(`rendered ${prompts.length} videos to ${dir}`);
  }
  if (!values.quiet) console.error(summary);
  return 0;
}

// ---------------------------------------------------------------------------------------------

async function readPrompts(file: string): Promise<Prompt[]> {
  const text = await readFile(file, 'utf8');
  const trimmed = text.trim();
  const raw: unknown[] = trimmed.startsWith('[')
    ? (JSON.parse(trimmed) as unknown[])
    : trimmed
        .split('\n')
        .filter((l) => l.trim())
        .map((line, i) => {
          try {
            return JSON.parse(line) as unknown;
          } catch (err) {
            throw new Error(`${file}:${i + 1}: not JSON (${(err as Error).message})`);
          }
        });
  return raw.map((entry, i) => {
    const p = entry as Prompt;
    if (typeof p?.id !== 'string') throw new Error(`${file}: prompt ${i + 1} has no string id`);
    try {
      validateSpec(p.spec);
    } catch (err) {
      throw new Error(`${file}: prompt ${p.id}: ${(err as Error).message}`);
    }
    return p;
  });
}

async function readVideos(path: string): Promise<{ id: string; video: Video }[]> {
  const files = (await stat(path)).isDirectory()
    ? (await readdir(path))
        .filter((f) => f.endsWith(VIDEO_EXTENSION))
        .sort()
        .map((f) => join(path, f))
    : [path];
  const out: { id: string; video: Video }[] = [];
  for (const file of files) {
    const { videos, header } = await readVideoFile(file);
    const stem = basename(file, VIDEO_EXTENSION);
    videos.forEach((video, i) => out.push({ id: header.ids?.[i] ?? (videos.length > 1 ? `${stem}#${i}` : stem), video }));
  }
  return out;
}

/** The prompt a video id belongs to: the id itself, or the longest prompt id followed by a separator. */
function promptFor(id: string, byId: Map<string, Prompt>): Prompt | undefined {
  if (byId.has(id)) return byId.get(id);
  let best: Prompt | undefined;
  for (const [pid, p] of byId) if (id.startsWith(pid) && /^[^A-Za-z0-9]/.test(id.slice(pid.length)) && (!best || pid.length > best.id.length)) best = p;
  return best;
}

export async function evaluateCommand(argv: string[]): Promise<number> {
  const { values, help } = parse(argv, EVALUATE_OPTIONS, EVALUATE_HELP);
  if (help) {
    console.log(EVALUATE_HELP);
    return 0;
  }
  const videosPath = requireString(values, 'videos', EVALUATE_HELP);
  const promptsPath = requireString(values, 'prompts', EVALUATE_HELP);
  const prompts = await readPrompts(promptsPath);
  const byId = new Map(prompts.map((p) => [p.id, p]));
  const videos = await readVideos(videosPath);
  const items: (EvalItem & { id: string })[] = [];
  const unmatched: string[] = [];
  for (const v of videos) {
    const p = promptFor(v.id, byId);
    if (p) items.push({ id: v.id, spec: p.spec, video: v.video });
    else unmatched.push(v.id);
  }
  if (unmatched.length) console.error(`warning: ${unmatched.length} video(s) match no prompt and are skipped: ${unmatched.slice(0, 5).join(', ')}${unmatched.length > 5 ? ', ...' : ''}`);
  if (items.length === 0) throw new Error(`no video in ${videosPath} matches a prompt of ${promptsPath}`);
  const result = evaluateVideos(items, { perVideo: values['per-video'] === true });
  if (values.json) {
    const perVideo = result.perVideo?.map((scores, i) => ({ id: items[i]!.id, ...scores }));
    console.log(JSON.stringify({ videos: items.length, ...result, ...(perVideo ? { perVideo } : {}) }, (_, v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2));
    return 0;
  }
  const lines = [`${items.length} videos`, `${'dimension'.padEnd(24)} ${'score'.padStart(7)}  n`];
  for (const d of VBENCH_DIMENSIONS) {
    const v = result.dimensions[d];
    lines.push(`${d.padEnd(24)} ${Number.isFinite(v) ? (100 * v).toFixed(2).padStart(7) : '    n/a'}  ${result.coverage[d]}`);
  }
  lines.push('', `Total    ${result.total.toFixed(2)}`, `Quality  ${result.quality.toFixed(2)}`, `Semantic ${result.semantic.toFixed(2)}`);
  if (result.missing.length) lines.push(`(no video concerns ${result.missing.join(', ')}: those take their group's mean)`);
  console.log(lines.join('\n'));
  return 0;
}
