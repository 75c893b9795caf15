/**
 * @mnist-lr/cli: the `mnist-lr` command. Exported here: what other entry points (the
 * coordinator command) reuse: the run recorder, the progress display, the error boundary,
 * the training-engine seam, and the plots and results table.
 */
export { EXIT, asUsage, markUsage, badOption, exitCodeOf, formatError, reportError } from './errors.js';
export { integerOption } from './options.js';
export { createProgress, type ProgressOptions, type TrainProgress } from './progress.js';
export {
  RunRecorder,
  runPaths,
  summaryLines,
  type RecorderOptions,
  type RunInfo,
  type RunPaths,
  type RunSummary,
} from './outputs/recorder.js';
export { formatEpochLine, formatConfig, describeConfig, displayPath } from './outputs/format.js';
export { formatConfusion } from './outputs/confusion.js';
export { renderPlots, writePlots, PLOT_PNG_WIDTH, type EpochLike, type PlotImages } from './outputs/plots.js';
export { readMetricsFile, resultsTable, replaceBetweenMarkers, type MetricsFile } from './outputs/report.js';
export {
  trainCommand,
  inProcessEngine,
  selectEngine,
  resolveTrainConfig,
  type TrainCommandOptions,
  type TrainingEngine,
  type TrainingJob,
  type TrainingOutcome,
} from './commands/train.js';
export { evalCommand, type EvalCommandOptions } from './commands/eval.js';
export { reportCommand, compareRunNames, RESULTS_START, RESULTS_END, type ReportCommandOptions } from './commands/report.js';
