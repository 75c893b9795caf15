/**
 * V8 tuning for the long training loops this command runs; bin.ts imports it before anything else.
 *
 * A distributed step allocates buffers (the frames it sends and receives) and few objects, so each
 * thread's old generation stays small (about 9 MB) while its young generation grows to full size.
 * V8 then keeps starting major collections, because the old generation's room to grow is below
 * the young generation's size: in a batch-10 run, about 15 a second in the coordinator and 5 in
 * each worker, each stalling a step for 2–9 ms. Letting the old generation grow to 5× its live
 * size before the next one (V8's own factor is at most 4) leaves 2 or 3 per thread in a run: the
 * mean step at batch 10 with 2 workers was a quarter to a third shorter in interleaved runs, and a
 * 3-epoch run took 10.3 s instead of 12.4 s, for 2 % more peak memory.
 *
 * The flag is process-wide and read whenever V8 sets a heap's next limit, so it also applies to
 * the worker threads this process starts. Programs that use the packages as a library can pass
 * `--heap-growing-percent=400` to node, or call setFlagsFromString as here.
 */
import { setFlagsFromString } from 'node:v8';

setFlagsFromString('--heap-growing-percent=400');

/**
 * Every step sends and receives frames of up to 63 KB (the weights), each in an ArrayBuffer of its
 * own (msgpackr's output, a socket read, ws's reassembly). They die at once, but their memory,
 * outside the heap, is only freed when a young-generation collection finds their small JS
 * objects dead; and the young generation grows to 16 MB of room, which these objects take
 * hundreds of steps to fill. Meanwhile the dead buffers pile up: 30–40 MB of them in the
 * coordinator and 10–30 MB in each worker thread were measured in `train --workers 2`
 * (process.memoryUsage().arrayBuffers), most of the run's peak memory. A young collection as soon
 * as the young generation is 5 % full (V8 default 80 %; a background task, run when the thread is
 * idle) frees them within a few steps and costs little, since almost nothing there is alive.
 * Lower settings collect so often that the frames in flight survive twice and are promoted to
 * the old generation, whose collections are rare: peak memory rises again. Applies to every
 * thread; a synchronous in-process run has no idle time and is unaffected.
 */
setFlagsFromString('--minor-gc-task-trigger=5');

/**
 * V8 doubles the young generation whenever much of it survives a collection, up to 16 MB per
 * semi-space, and a semi-space once used stays resident: loading the data, the modules and,
 * at the end, vega for the plots grew this thread's young generation to 32 MB, which stayed
 * until exit. Keeping it at its initial size (growth factor 1) took 15-20 MiB off the peak of
 * `train --workers 0` (152-157 → 136-140 MiB) with no measurable cost in CPU time: the objects
 * that survive move to the old generation a little sooner. --max-semi-space-size would say the
 * same, but only on node's command line: the main thread's heap is sized before this runs.
 */
setFlagsFromString('--semi-space-growth-factor=1');
