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
