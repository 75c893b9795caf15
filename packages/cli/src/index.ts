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
export { predictCommand, fitMode, type PredictCommandOptions, type PredictEntry } from './commands/predict.js';
export { exportCommand, exportFormat, EXPORT_FORMATS, type ExportCommandOptions, type ExportFormat } from './commands/export.js';
export { toOnnx, ONNX_IR_VERSION, ONNX_OPSET, ONNX_INPUT, ONNX_OUTPUT } from './export/onnx.js';
export { toNpz, npy } from './export/npz.js';
export { toWeightsJson, WEIGHTS_JSON_FORMAT } from './export/json.js';
export { decodeImage, MAX_IMAGE_PIXELS, MAX_IDX_IMAGES, type DecodedImage } from './images/decode.js';
export { serveCommand, type ServeCommandOptions } from './commands/serve.js';
export {
  startPredictServer,
  DEFAULT_MAX_BODY_BYTES,
  DEFAULT_REQUEST_TIMEOUT_MS,
  type PredictServer,
  type PredictServerOptions,
} from './serve/server.js';
export type { PredictionAnswer } from './serve/predict-route.js';
