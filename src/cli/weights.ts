// `solacelive weights pull <repo> [--quant q4|q8]`: downloads a Moshi checkpoint (LM
// weights for the chosen quantization, text tokenizer, Mimi weights, config if present)
// into the Hugging Face cache, resuming partial downloads and checking checksums.
import { pullRepo, repoCacheDir, repoPlan, type Quant } from '../models/lm/hub.ts';
import { parseCommandArgs, UsageError, type Command } from './args.ts';
import { runSynth, SYNTH_HELP } from './weights-synth.ts';

const HELP = [
  'usage: solacelive weights pull <repo> [--quant q4|q8|float] [--revision REV] [--cache-dir DIR] [--dry-run]',
  '',
  'Downloads a Moshi checkpoint from the Hugging Face hub into the local cache (the',
  'huggingface_hub layout: <cache>/models--<owner>--<name>/snapshots/<commit>/…) and prints',
  'where each file is. Files already there are not downloaded again; an interrupted',
  'download resumes. Every file is checked against the hub\'s sha256 (or git sha1).',
  '',
  '  <repo>            e.g. kyutai/moshiko-mlx-q4, kyutai/moshika-mlx-q8, kyutai/moshiko-mlx-bf16',
  '  --quant q4|q8|float  which LM weights: model.q4.safetensors / model.q8.safetensors /',
  '                    model.safetensors (default: what the repo name says, e.g. -q4 → q4,',
  '                    -bf16 → float; the same files `serve --model <repo>` looks for)',
  '  --dry-run         print the files that would be fetched and where, without network',
  '  --revision REV    branch, tag or commit (default main)',
  '  --cache-dir DIR   cache root (default: $HF_HUB_CACHE, $HF_HOME/hub or ~/.cache/huggingface/hub)',
  '  --hub-url URL     hub or mirror to download from (default https://huggingface.co)',
  '',
  'HF_TOKEN, if set, is sent to the hub (never printed). Without network access the',
  'command names each file and the folder to put it in by hand.',
].join('\n');

async function run(argv: string[]): Promise<number> {
  if (argv[0] === 'synth') return runSynth(argv.slice(1));
  const { values, positionals } = parseCommandArgs(argv, {
    quant: { type: 'string' },
    revision: { type: 'string' },
    'cache-dir': { type: 'string' },
    'hub-url': { type: 'string' },
    'dry-run': { type: 'boolean' },
  }, true);
  const [sub, repo, ...rest] = positionals;
  if (sub !== 'pull') throw new UsageError(sub ? `unknown subcommand '${sub}'` : 'missing subcommand (pull or synth)');
  if (!repo || !/^[\w.-]+\/[\w.-]+$/.test(repo)) throw new UsageError(repo ? `'${repo}' is not a repo id (owner/name)` : 'missing <repo>');
  if (rest.length) throw new UsageError(`unexpected arguments: ${rest.join(' ')}`);
  const q = values.quant;
  if (q !== undefined && q !== 'q4' && q !== 'q8' && q !== 'float') throw new UsageError(`--quant must be q4, q8 or float (got ${q})`);
  const quant = q === undefined ? undefined : q === 'float' ? null : (q as Quant);
  const opts = { repo, revision: values.revision, cacheDir: values['cache-dir'], hubUrl: values['hub-url'] };
  if (values['dry-run']) {
    const plan = repoPlan(repo, quant);
    console.log(`${repo} (${plan.quant ?? 'float'} LM weights) → ${repoCacheDir(repo, opts.cacheDir)}`);
    for (const f of plan.required) console.log(`  required  ${f}`);
    for (const f of plan.optional) console.log(`  if found  ${f}`);
    return 0;
  }
  const files = await pullRepo(opts, quant);
  console.log(`${repo} → ${repoCacheDir(repo, opts.cacheDir)}`);
  for (const f of files) console.log(`  ${f.cached ? 'cached    ' : 'downloaded'}  ${f.localPath}  (${f.size} bytes${f.checksum ? `, ${f.checksum.split(':')[0]} ok` : ''})`);
  return 0;
}

export const command: Command = {
  summary: 'download Moshi weights into the Hugging Face cache, or synthesize untrained ones',
  help: `${HELP}\n\n${SYNTH_HELP}`,
  run,
};
