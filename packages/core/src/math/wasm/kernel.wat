;; The exact sparse kernel of ../kernel.ts (`accumulate`, with the forward pass of ../forward.ts)
;; and its evaluation (../js-kernel.ts, `evaluate`), in WebAssembly SIMD.
;;
;; It computes the same bits as the JS kernel, operation for operation (KERNEL_ID is shared). The
;; forward pass is $forward, which run() and evaluate() both call:
;; - lanes hold the classes (k, k+1) of a pair; every lane does the scalar operations of the JS
;;   kernel for its class, in the same order: z_k += W[p,k]·v over the nonzero pixels in ascending
;;   order (a multiply, then an add: no fused multiply-add exists in WebAssembly SIMD), then
;;   z_k/255 + b_k;
;; - max and argmax (first index) scalar, in class order, with the same strict comparison;
;; - exp and log are $exp and $log below, ports of fdlibm instruction for instruction like ../exp.ts
;;   and ../log.ts (WebAssembly has none, and the host's Math.exp is implementation-approximated);
;; - the sum of the exponentials scalar, in class order, starting from 0;
;; - δ and loss rounded like JS Math.round (to the nearest integer, ties towards +∞, −0 kept):
;;   r = ceil(x); if (r − 0.5 > x) r −= 1. Not f64.nearest, which rounds ties to even.
;;
;; Memory (imported and shared, laid out by wasm-kernel.ts): the data set, read-only, wherever
;; setup() says, and the instance's scratch below at the byte offsets from $base (the `offset=`
;; immediates; wasm-kernel.ts repeats the numbers). Several instances, in several threads, can use
;; one memory: each has its own scratch, they all read the same data set.
;; run() and evaluate() read W and b at $weights, which is $base (the scratch's own copy) unless
;; weightsAt() points it at weights elsewhere in the memory, laid out the same way (W, then b 62720
;; bytes on): the coordinator's weights, which every worker thread of its process then reads in place.
;;   0       W       7840 f64, row-major by pixel (W[p*10 + k]); one row is 80 bytes
;;   62720   b       10 f64
;;   62800   gW      7840 f64 (exact sums)
;;   125520  gb      10 f64
;;   125600  z       10 f64 scratch (the logits of the sample, from $forward)
;;   125680  (unused, 80 bytes)
;;   125760  onehot  10 rows of 10 f64: row y is the one-hot vector of label y
;;   126560  stats   loss f64 at +0, correct i32 at +8
;;   126576  stamp   784 u32 (the row set: stamp[p] = generation ⇔ row p is in the set)
;;   129712  list    784 u16 (the rows in the set, in the order first touched)
;;   131280  confusion 100 u32 (evaluate(): confusion[10·y + prediction])
;;   131680  batch   u32 sample indices (as many as wasm-kernel.ts allows)
;; The data set: offsets u32, pixels u16, values u8, labels u8 at the addresses given to setup().
(module
  (import "env" "memory" (memory 1 65536 shared))

  ;; Where this instance's scratch (W … batch, the fixed offsets above) starts: 0 in a memory of
  ;; its own, a slot of its own in a memory shared with other instances (wasm-kernel.ts).
  (global $base (mut i32) (i32.const 0))
  (global $offsets (mut i32) (i32.const 0))
  (global $pixels (mut i32) (i32.const 0))
  (global $values (mut i32) (i32.const 0))
  (global $labels (mut i32) (i32.const 0))
  ;; Where run() and evaluate() read W (and b at +62720): $base, or weights elsewhere in the memory
  ;; (weightsAt).
  (global $weights (mut i32) (i32.const 0))

  (func (export "setup") (param $base i32) (param $offsets i32) (param $pixels i32) (param $values i32) (param $labels i32)
    (global.set $base (local.get $base))
    (global.set $weights (local.get $base))
    (global.set $offsets (local.get $offsets))
    (global.set $pixels (local.get $pixels))
    (global.set $values (local.get $values))
    (global.set $labels (local.get $labels)))

  ;; run() and evaluate() read W at $at and b at $at + 62720 from now on ($base: the scratch's own copy).
  (func (export "weightsAt") (param $at i32)
    (global.set $weights (local.get $at)))

  ;; Zeroes the gW rows list[0..size) (the only ones that can be nonzero), gb, loss and correct.
  (func (export "clear") (param $size i32)
    (local $r i32) (local $o i32) (local $base i32)
    (local.set $base (global.get $base))
    (block $done
      (br_if $done (i32.eqz (local.get $size)))
      (loop $rows
        (local.set $o (i32.add (i32.add (local.get $base) (i32.const 62800))
          (i32.mul (i32.load16_u offset=129712 (i32.add (local.get $base) (i32.shl (local.get $r) (i32.const 1)))) (i32.const 80))))
        (v128.store offset=0 (local.get $o) (v128.const i64x2 0 0))
        (v128.store offset=16 (local.get $o) (v128.const i64x2 0 0))
        (v128.store offset=32 (local.get $o) (v128.const i64x2 0 0))
        (v128.store offset=48 (local.get $o) (v128.const i64x2 0 0))
        (v128.store offset=64 (local.get $o) (v128.const i64x2 0 0))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br_if $rows (i32.lt_u (local.get $r) (local.get $size)))))
    (v128.store offset=125520 (local.get $base) (v128.const i64x2 0 0))
    (v128.store offset=125536 (local.get $base) (v128.const i64x2 0 0))
    (v128.store offset=125552 (local.get $base) (v128.const i64x2 0 0))
    (v128.store offset=125568 (local.get $base) (v128.const i64x2 0 0))
    (v128.store offset=125584 (local.get $base) (v128.const i64x2 0 0))
    (f64.store offset=126560 (local.get $base) (f64.const 0))
    (i32.store offset=126568 (local.get $base) (i32.const 0)))

  ;; The largest of the n u16 at `at` (0 for n = 0): checks the data before the kernel trusts it.
  (func (export "maxU16") (param $at i32) (param $n i32) (result i32)
    (local $end i32) (local $m v128) (local $r i32) (local $x i32)
    (local.set $end (i32.add (local.get $at) (i32.shl (local.get $n) (i32.const 1))))
    (block $done
      (loop $vec
        (br_if $done (i32.gt_u (i32.add (local.get $at) (i32.const 16)) (local.get $end)))
        (local.set $m (i16x8.max_u (local.get $m) (v128.load (local.get $at))))
        (local.set $at (i32.add (local.get $at) (i32.const 16)))
        (br $vec)))
    (local.set $m (i16x8.max_u (local.get $m) (i32x4.shr_u (local.get $m) (i32.const 16))))
    (local.set $m (i16x8.max_u (local.get $m) (i64x2.shr_u (local.get $m) (i32.const 32))))
    (local.set $r (i16x8.extract_lane_u 0 (local.get $m)))
    (local.set $x (i16x8.extract_lane_u 4 (local.get $m)))
    (if (i32.gt_u (local.get $x) (local.get $r)) (then (local.set $r (local.get $x))))
    (block $tail_done
      (loop $tail
        (br_if $tail_done (i32.ge_u (local.get $at) (local.get $end)))
        (local.set $x (i32.load16_u (local.get $at)))
        (if (i32.gt_u (local.get $x) (local.get $r)) (then (local.set $r (local.get $x))))
        (local.set $at (i32.add (local.get $at) (i32.const 2)))
        (br $tail)))
    (local.get $r))

  ;; The largest of the n u8 at `at` (0 for n = 0).
  (func (export "maxU8") (param $at i32) (param $n i32) (result i32)
    (local $end i32) (local $m v128) (local $r i32) (local $x i32)
    (local.set $end (i32.add (local.get $at) (local.get $n)))
    (block $done
      (loop $vec
        (br_if $done (i32.gt_u (i32.add (local.get $at) (i32.const 16)) (local.get $end)))
        (local.set $m (i8x16.max_u (local.get $m) (v128.load (local.get $at))))
        (local.set $at (i32.add (local.get $at) (i32.const 16)))
        (br $vec)))
    (local.set $x (i32.const 0))
    (block $lanes_done
      (loop $lanes
        (local.set $m (i8x16.max_u (local.get $m) (i8x16.shuffle 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 0 (local.get $m) (local.get $m))))
        (local.set $x (i32.add (local.get $x) (i32.const 1)))
        (br_if $lanes (i32.lt_u (local.get $x) (i32.const 15)))))
    (local.set $r (i8x16.extract_lane_u 0 (local.get $m)))
    (block $tail_done
      (loop $tail
        (br_if $tail_done (i32.ge_u (local.get $at) (local.get $end)))
        (local.set $x (i32.load8_u (local.get $at)))
        (if (i32.gt_u (local.get $x) (local.get $r)) (then (local.set $r (local.get $x))))
        (local.set $at (i32.add (local.get $at) (i32.const 1)))
        (br $tail)))
    (local.get $r))

;; e^x: fdlibm's exp as V8 ports it (src/base/ieee754.cc), the operations of ../exp.ts in the
  ;; same order. f64 operations are IEEE basic operations and are never fused, so the bits are the
  ;; same on every engine and CPU.
  (func $exp (export "exp") (param $x f64) (result f64)
    (local $bits i64) (local $hx i32) (local $xsb i32) (local $k i32)
    (local $hi f64) (local $lo f64) (local $t f64) (local $c f64) (local $y f64)
    (local.set $bits (i64.reinterpret_f64 (local.get $x)))
    (local.set $hx (i32.wrap_i64 (i64.shr_u (local.get $bits) (i64.const 32))))
    (local.set $xsb (i32.shr_u (local.get $hx) (i32.const 31)))
    (local.set $hx (i32.and (local.get $hx) (i32.const 0x7fffffff)))
    ;; Non-finite arguments, overflow and underflow.
    (if (i32.ge_u (local.get $hx) (i32.const 0x40862e42))
      (then
        (if (i32.ge_u (local.get $hx) (i32.const 0x7ff00000))
          (then
            (if (i32.or (i32.and (local.get $hx) (i32.const 0xfffff)) (i32.wrap_i64 (local.get $bits)))
              (then (return (f64.add (local.get $x) (local.get $x)))))
            (if (i32.eqz (local.get $xsb)) (then (return (local.get $x))))
            (return (f64.const 0))))
        (if (f64.gt (local.get $x) (f64.const 0x1.62e42fefa39efp+9))
          (then (return (f64.mul (f64.const 1e300) (f64.const 1e300)))))
        (if (f64.lt (local.get $x) (f64.const -0x1.74910d52d3051p+9))
          (then (return (f64.mul (f64.const 0x1p-1000) (f64.const 0x1p-1000)))))))
    ;; Argument reduction: x = k·ln2 + (hi − lo).
    (if (i32.gt_u (local.get $hx) (i32.const 0x3fd62e42))
      (then
        (if (i32.lt_u (local.get $hx) (i32.const 0x3ff0a2b2))
          (then
            (if (f64.eq (local.get $x) (f64.const 1)) (then (return (f64.const 0x1.5bf0a8b145769p+1))))
            (if (i32.eqz (local.get $xsb))
              (then
                (local.set $hi (f64.sub (local.get $x) (f64.const 0x1.62e42feep-1)))
                (local.set $lo (f64.const 0x1.a39ef35793c76p-33))
                (local.set $k (i32.const 1)))
              (else
                (local.set $hi (f64.sub (local.get $x) (f64.const -0x1.62e42feep-1)))
                (local.set $lo (f64.const -0x1.a39ef35793c76p-33))
                (local.set $k (i32.const -1)))))
          (else
            (local.set $k (i32.trunc_f64_s (f64.add
              (f64.mul (f64.const 0x1.71547652b82fep+0) (local.get $x))
              (select (f64.const -0.5) (f64.const 0.5) (local.get $xsb)))))
            (local.set $t (f64.convert_i32_s (local.get $k)))
            (local.set $hi (f64.sub (local.get $x) (f64.mul (local.get $t) (f64.const 0x1.62e42feep-1))))
            (local.set $lo (f64.mul (local.get $t) (f64.const 0x1.a39ef35793c76p-33)))))
        (local.set $x (f64.sub (local.get $hi) (local.get $lo))))
      (else
        (if (i32.lt_u (local.get $hx) (i32.const 0x3e300000))
          (then (return (f64.add (f64.const 1) (local.get $x)))))))
    ;; x is now in the primary range.
    (local.set $t (f64.mul (local.get $x) (local.get $x)))
    (local.set $c (f64.sub (local.get $x) (f64.mul (local.get $t)
      (f64.add (f64.const 0x1.555555555553ep-3) (f64.mul (local.get $t)
      (f64.add (f64.const -0x1.6c16c16bebd93p-9) (f64.mul (local.get $t)
      (f64.add (f64.const 0x1.1566aaf25de2cp-14) (f64.mul (local.get $t)
      (f64.add (f64.const -0x1.bbd41c5d26bf1p-20) (f64.mul (local.get $t) (f64.const 0x1.6376972bea4d0p-25))))))))))))
    (if (i32.eqz (local.get $k))
      (then (return (f64.sub (f64.const 1) (f64.sub
        (f64.div (f64.mul (local.get $x) (local.get $c)) (f64.sub (local.get $c) (f64.const 2)))
        (local.get $x))))))
    (local.set $y (f64.sub (f64.const 1) (f64.sub
      (f64.sub (local.get $lo) (f64.div (f64.mul (local.get $x) (local.get $c)) (f64.sub (f64.const 2) (local.get $c))))
      (local.get $hi))))
    (if (i32.ge_s (local.get $k) (i32.const -1021))
      (then
        (if (i32.eq (local.get $k) (i32.const 1024))
          (then (return (f64.mul (f64.mul (local.get $y) (f64.const 2)) (f64.const 0x1p1023)))))
        (return (f64.mul (local.get $y) (f64.reinterpret_i64 (i64.shl
          (i64.extend_i32_u (i32.add (i32.const 0x3ff00000) (i32.shl (local.get $k) (i32.const 20))))
          (i64.const 32)))))))
    (f64.mul (f64.mul (local.get $y) (f64.reinterpret_i64 (i64.shl
        (i64.extend_i32_u (i32.add (i32.const 0x3ff00000) (i32.shl (i32.add (local.get $k) (i32.const 1000)) (i32.const 20))))
        (i64.const 32))))
      (f64.const 0x1p-1000)))

  ;; The natural logarithm: fdlibm's log as V8 ports it, the operations of ../log.ts in the same order.
  (func $log (export "log") (param $x f64) (result f64)
    (local $bits i64) (local $hx i32) (local $k i32) (local $i i32) (local $j i32)
    (local $f f64) (local $s f64) (local $dk f64) (local $z f64) (local $w f64)
    (local $t1 f64) (local $t2 f64) (local $R f64) (local $hfsq f64)
    (local.set $bits (i64.reinterpret_f64 (local.get $x)))
    (local.set $hx (i32.wrap_i64 (i64.shr_u (local.get $bits) (i64.const 32))))
    (if (i32.lt_s (local.get $hx) (i32.const 0x00100000))
      (then
        (if (i32.eqz (i32.or (i32.and (local.get $hx) (i32.const 0x7fffffff)) (i32.wrap_i64 (local.get $bits))))
          (then (return (f64.const -inf))))
        (if (i32.lt_s (local.get $hx) (i32.const 0)) (then (return (f64.const nan))))
        (local.set $k (i32.const -54))
        (local.set $x (f64.mul (local.get $x) (f64.const 0x1p54)))
        (local.set $bits (i64.reinterpret_f64 (local.get $x)))
        (local.set $hx (i32.wrap_i64 (i64.shr_u (local.get $bits) (i64.const 32))))))
    (if (i32.ge_s (local.get $hx) (i32.const 0x7ff00000))
      (then (return (f64.add (local.get $x) (local.get $x)))))
    (local.set $k (i32.add (local.get $k) (i32.sub (i32.shr_s (local.get $hx) (i32.const 20)) (i32.const 1023))))
    (local.set $hx (i32.and (local.get $hx) (i32.const 0x000fffff)))
    (local.set $i (i32.and (i32.add (local.get $hx) (i32.const 0x95f64)) (i32.const 0x100000)))
    ;; Normalise x or x/2: a new high word, x's low word.
    (local.set $x (f64.reinterpret_i64 (i64.or
      (i64.shl (i64.extend_i32_u (i32.or (local.get $hx) (i32.xor (local.get $i) (i32.const 0x3ff00000)))) (i64.const 32))
      (i64.and (local.get $bits) (i64.const 0xffffffff)))))
    (local.set $k (i32.add (local.get $k) (i32.shr_s (local.get $i) (i32.const 20))))
    (local.set $f (f64.sub (local.get $x) (f64.const 1)))
    (if (i32.lt_s (i32.and (i32.const 0x000fffff) (i32.add (i32.const 2) (local.get $hx))) (i32.const 3))
      (then
        (if (f64.eq (local.get $f) (f64.const 0))
          (then
            (if (i32.eqz (local.get $k)) (then (return (f64.const 0))))
            (local.set $dk (f64.convert_i32_s (local.get $k)))
            (return (f64.add (f64.mul (local.get $dk) (f64.const 0x1.62e42feep-1))
              (f64.mul (local.get $dk) (f64.const 0x1.a39ef35793c76p-33))))))
        (local.set $R (f64.mul (f64.mul (local.get $f) (local.get $f))
          (f64.sub (f64.const 0.5) (f64.mul (f64.const 0.33333333333333333) (local.get $f)))))
        (if (i32.eqz (local.get $k)) (then (return (f64.sub (local.get $f) (local.get $R)))))
        (local.set $dk (f64.convert_i32_s (local.get $k)))
        (return (f64.sub (f64.mul (local.get $dk) (f64.const 0x1.62e42feep-1))
          (f64.sub (f64.sub (local.get $R) (f64.mul (local.get $dk) (f64.const 0x1.a39ef35793c76p-33))) (local.get $f))))))
    (local.set $s (f64.div (local.get $f) (f64.add (f64.const 2) (local.get $f))))
    (local.set $dk (f64.convert_i32_s (local.get $k)))
    (local.set $z (f64.mul (local.get $s) (local.get $s)))
    (local.set $i (i32.sub (local.get $hx) (i32.const 0x6147a)))
    (local.set $w (f64.mul (local.get $z) (local.get $z)))
    (local.set $j (i32.sub (i32.const 0x6b851) (local.get $hx)))
    (local.set $t1 (f64.mul (local.get $w)
      (f64.add (f64.const 0x1.999999997fa04p-2) (f64.mul (local.get $w)
      (f64.add (f64.const 0x1.c71c51d8e78afp-3) (f64.mul (local.get $w) (f64.const 0x1.39a09d078c69fp-3)))))))
    (local.set $t2 (f64.mul (local.get $z)
      (f64.add (f64.const 0x1.5555555555593p-1) (f64.mul (local.get $w)
      (f64.add (f64.const 0x1.2492494229359p-2) (f64.mul (local.get $w)
      (f64.add (f64.const 0x1.7466496cb03dep-3) (f64.mul (local.get $w) (f64.const 0x1.2f112df3e5244p-3)))))))))
    (local.set $i (i32.or (local.get $i) (local.get $j)))
    (local.set $R (f64.add (local.get $t2) (local.get $t1)))
    (if (i32.gt_s (local.get $i) (i32.const 0))
      (then
        (local.set $hfsq (f64.mul (f64.mul (f64.const 0.5) (local.get $f)) (local.get $f)))
        (if (i32.eqz (local.get $k))
          (then (return (f64.sub (local.get $f) (f64.sub (local.get $hfsq)
            (f64.mul (local.get $s) (f64.add (local.get $hfsq) (local.get $R))))))))
        (return (f64.sub (f64.mul (local.get $dk) (f64.const 0x1.62e42feep-1))
          (f64.sub (f64.sub (local.get $hfsq)
            (f64.add (f64.mul (local.get $s) (f64.add (local.get $hfsq) (local.get $R)))
              (f64.mul (local.get $dk) (f64.const 0x1.a39ef35793c76p-33))))
            (local.get $f))))))
    (if (i32.eqz (local.get $k))
      (then (return (f64.sub (local.get $f) (f64.mul (local.get $s) (f64.sub (local.get $f) (local.get $R)))))))
    (f64.sub (f64.mul (local.get $dk) (f64.const 0x1.62e42feep-1))
      (f64.sub (f64.sub (f64.mul (local.get $s) (f64.sub (local.get $f) (local.get $R)))
          (f64.mul (local.get $dk) (f64.const 0x1.a39ef35793c76p-33)))
        (local.get $f))))

  ;; JS Math.round.
  (func $round (param $x f64) (result f64)
    (local $r f64)
    (local.set $r (f64.ceil (local.get $x)))
    (if (f64.gt (f64.sub (local.get $r) (f64.const 0.5)) (local.get $x))
      (then (local.set $r (f64.sub (local.get $r) (f64.const 1)))))
    (local.get $r))

  ;; JS Math.round on both lanes: r − 1 where r − 0.5 > x, else r − (+0) = r (also for r = −0).
  (func $round2 (param $x v128) (result v128)
    (local $r v128)
    (local.set $r (f64x2.ceil (local.get $x)))
    (f64x2.sub (local.get $r)
      (v128.and
        (f64x2.gt (f64x2.sub (local.get $r) (v128.const f64x2 0.5 0.5)) (local.get $x))
        (v128.const f64x2 1 1))))

  ;; Both roundings, exported for the tests.
  (func (export "round") (param $x f64) (result f64) (call $round (local.get $x)))
  (func (export "roundPair") (param $a f64) (param $b f64) (result f64 f64)
    (local $r v128)
    (local.set $r (call $round2 (f64x2.replace_lane 1 (f64x2.splat (local.get $a)) (local.get $b))))
    (f64x2.extract_lane 0 (local.get $r))
    (f64x2.extract_lane 1 (local.get $r)))

  ;; Nonzero bytes of [at, at + n), n a multiple of 16: for the MNIST loader (../../data/sparsify.ts).
  (func (export "countNonzero") (param $at i32) (param $n i32) (result i32)
    (local $end i32) (local $zeros i32)
    (local.set $end (i32.add (local.get $at) (local.get $n)))
    (block $done
      (br_if $done (i32.ge_u (local.get $at) (local.get $end)))
      (loop $groups
        (local.set $zeros (i32.add (local.get $zeros)
          (i32.popcnt (i8x16.bitmask (i8x16.eq (v128.load (local.get $at)) (v128.const i64x2 0 0))))))
        (local.set $at (i32.add (local.get $at) (i32.const 16)))
        (br_if $groups (i32.lt_u (local.get $at) (local.get $end)))))
    (i32.sub (local.get $n) (local.get $zeros)))

  ;; The sparse rows of `images` dense images of 784 bytes at $at: each nonzero pixel's index (u16
  ;; at $pixelsAt) and value (u8 at $valuesAt) in ascending order, and each image's first entry
  ;; (u32 at $offsetsAt, counted from 0). Returns the number of entries. Groups of 16 pixels without
  ;; ink are skipped whole; in the others every pixel is written and the entry count moves on only
  ;; for ink (no branch per pixel: ink or not is close to a coin toss there).
  (func (export "sparsify") (param $at i32) (param $images i32) (param $pixelsAt i32) (param $valuesAt i32) (param $offsetsAt i32) (result i32)
    (local $i i32) (local $g i32) (local $j i32) (local $q i32) (local $b i32) (local $p i32)
    (block $images_done
      (br_if $images_done (i32.eqz (local.get $images)))
      (loop $image
        (i32.store (i32.add (local.get $offsetsAt) (i32.shl (local.get $i) (i32.const 2))) (local.get $q))
        (local.set $g (i32.const 0))
        (loop $group
          (if (v128.any_true (v128.load (i32.add (local.get $at) (local.get $g))))
            (then
              (local.set $j (i32.const 0))
              (loop $pixel
                (local.set $p (i32.add (local.get $g) (local.get $j)))
                (local.set $b (i32.load8_u (i32.add (local.get $at) (local.get $p))))
                (i32.store16 (i32.add (local.get $pixelsAt) (i32.shl (local.get $q) (i32.const 1))) (local.get $p))
                (i32.store8 (i32.add (local.get $valuesAt) (local.get $q)) (local.get $b))
                (local.set $q (i32.add (local.get $q) (i32.shr_u (i32.add (local.get $b) (i32.const 255)) (i32.const 8))))
                (local.set $j (i32.add (local.get $j) (i32.const 1)))
                (br_if $pixel (i32.lt_u (local.get $j) (i32.const 16))))))
          (local.set $g (i32.add (local.get $g) (i32.const 16)))
          (br_if $group (i32.lt_u (local.get $g) (i32.const 784))))
        (local.set $at (i32.add (local.get $at) (i32.const 784)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br_if $image (i32.lt_u (local.get $i) (local.get $images)))))
    (local.get $q))

  ;; The optimiser's plain SGD step on the rows of the row set (in this instance's scratch), as ../../train/optimizer.ts does it
  ;; in JS, operation for operation: W[p,k] ← W[p,k] − lr·(gW[p,k]·invW) for the rows list[0..size),
  ;; and b_k ← b_k − lr·(gb_k·invB). For a trainer whose weights live in this memory (resident).
  (func (export "update") (param $size i32) (param $lr f64) (param $invW f64) (param $invB f64)
    (local $r i32) (local $o i32) (local $base i32) (local $lrv v128) (local $inv v128)
    (local.set $base (global.get $base))
    (local.set $lrv (f64x2.splat (local.get $lr)))
    (local.set $inv (f64x2.splat (local.get $invW)))
    (block $done
      (br_if $done (i32.eqz (local.get $size)))
      (loop $rows
        (local.set $o (i32.add (local.get $base)
          (i32.mul (i32.load16_u offset=129712 (i32.add (local.get $base) (i32.shl (local.get $r) (i32.const 1)))) (i32.const 80))))
        (v128.store offset=0 (local.get $o) (f64x2.sub (v128.load offset=0 (local.get $o))
          (f64x2.mul (local.get $lrv) (f64x2.mul (v128.load offset=62800 (local.get $o)) (local.get $inv)))))
        (v128.store offset=16 (local.get $o) (f64x2.sub (v128.load offset=16 (local.get $o))
          (f64x2.mul (local.get $lrv) (f64x2.mul (v128.load offset=62816 (local.get $o)) (local.get $inv)))))
        (v128.store offset=32 (local.get $o) (f64x2.sub (v128.load offset=32 (local.get $o))
          (f64x2.mul (local.get $lrv) (f64x2.mul (v128.load offset=62832 (local.get $o)) (local.get $inv)))))
        (v128.store offset=48 (local.get $o) (f64x2.sub (v128.load offset=48 (local.get $o))
          (f64x2.mul (local.get $lrv) (f64x2.mul (v128.load offset=62848 (local.get $o)) (local.get $inv)))))
        (v128.store offset=64 (local.get $o) (f64x2.sub (v128.load offset=64 (local.get $o))
          (f64x2.mul (local.get $lrv) (f64x2.mul (v128.load offset=62864 (local.get $o)) (local.get $inv)))))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br_if $rows (i32.lt_u (local.get $r) (local.get $size)))))
    (local.set $inv (f64x2.splat (local.get $invB)))
    (v128.store offset=62720 (local.get $base) (f64x2.sub (v128.load offset=62720 (local.get $base))
      (f64x2.mul (local.get $lrv) (f64x2.mul (v128.load offset=125520 (local.get $base)) (local.get $inv)))))
    (v128.store offset=62736 (local.get $base) (f64x2.sub (v128.load offset=62736 (local.get $base))
      (f64x2.mul (local.get $lrv) (f64x2.mul (v128.load offset=125536 (local.get $base)) (local.get $inv)))))
    (v128.store offset=62752 (local.get $base) (f64x2.sub (v128.load offset=62752 (local.get $base))
      (f64x2.mul (local.get $lrv) (f64x2.mul (v128.load offset=125552 (local.get $base)) (local.get $inv)))))
    (v128.store offset=62768 (local.get $base) (f64x2.sub (v128.load offset=62768 (local.get $base))
      (f64x2.mul (local.get $lrv) (f64x2.mul (v128.load offset=125568 (local.get $base)) (local.get $inv)))))
    (v128.store offset=62784 (local.get $base) (f64x2.sub (v128.load offset=62784 (local.get $base))
      (f64x2.mul (local.get $lrv) (f64x2.mul (v128.load offset=125584 (local.get $base)) (local.get $inv))))))

;; Moving rows of 10 f64 (80 bytes: one pixel's ten classes) between a full 784-row matrix and a
  ;; packed one, at absolute addresses anywhere in the memory: the shared-memory data plane's copies
  ;; (../row-mover.ts). The row lists are u16 pixel indices below 784 (the callers' own row sets).
  ;; Copies and adds of exact sums only: no arithmetic that could round (DESIGN.md §2).

  ;; to[i] = from[list[i]] for i < n, and toList[i] = list[i].
  (func (export "gatherRows") (param $listAt i32) (param $n i32) (param $fromAt i32) (param $toListAt i32) (param $toAt i32)
    (local $i i32) (local $p i32) (local $f i32) (local $t i32)
    (block $done
      (br_if $done (i32.eqz (local.get $n)))
      (loop $rows
        (local.set $p (i32.load16_u (i32.add (local.get $listAt) (i32.shl (local.get $i) (i32.const 1)))))
        (i32.store16 (i32.add (local.get $toListAt) (i32.shl (local.get $i) (i32.const 1))) (local.get $p))
        (local.set $f (i32.add (local.get $fromAt) (i32.mul (local.get $p) (i32.const 80))))
        (local.set $t (i32.add (local.get $toAt) (i32.mul (local.get $i) (i32.const 80))))
        (v128.store offset=0 (local.get $t) (v128.load offset=0 (local.get $f)))
        (v128.store offset=16 (local.get $t) (v128.load offset=16 (local.get $f)))
        (v128.store offset=32 (local.get $t) (v128.load offset=32 (local.get $f)))
        (v128.store offset=48 (local.get $t) (v128.load offset=48 (local.get $f)))
        (v128.store offset=64 (local.get $t) (v128.load offset=64 (local.get $f)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br_if $rows (i32.lt_u (local.get $i) (local.get $n))))))

  ;; to[list[i]] = from[i] for i < n.
  (func (export "scatterRows") (param $listAt i32) (param $n i32) (param $fromAt i32) (param $toAt i32)
    (local $i i32) (local $f i32) (local $t i32)
    (block $done
      (br_if $done (i32.eqz (local.get $n)))
      (loop $rows
        (local.set $t (i32.add (local.get $toAt) (i32.mul
          (i32.load16_u (i32.add (local.get $listAt) (i32.shl (local.get $i) (i32.const 1)))) (i32.const 80))))
        (local.set $f (i32.add (local.get $fromAt) (i32.mul (local.get $i) (i32.const 80))))
        (v128.store offset=0 (local.get $t) (v128.load offset=0 (local.get $f)))
        (v128.store offset=16 (local.get $t) (v128.load offset=16 (local.get $f)))
        (v128.store offset=32 (local.get $t) (v128.load offset=32 (local.get $f)))
        (v128.store offset=48 (local.get $t) (v128.load offset=48 (local.get $f)))
        (v128.store offset=64 (local.get $t) (v128.load offset=64 (local.get $f)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br_if $rows (i32.lt_u (local.get $i) (local.get $n))))))

  ;; to[list[i]] += from[i] for i < n.
  (func (export "addRows") (param $listAt i32) (param $n i32) (param $fromAt i32) (param $toAt i32)
    (local $i i32) (local $f i32) (local $t i32)
    (block $done
      (br_if $done (i32.eqz (local.get $n)))
      (loop $rows
        (local.set $t (i32.add (local.get $toAt) (i32.mul
          (i32.load16_u (i32.add (local.get $listAt) (i32.shl (local.get $i) (i32.const 1)))) (i32.const 80))))
        (local.set $f (i32.add (local.get $fromAt) (i32.mul (local.get $i) (i32.const 80))))
        (v128.store offset=0 (local.get $t) (f64x2.add (v128.load offset=0 (local.get $t)) (v128.load offset=0 (local.get $f))))
        (v128.store offset=16 (local.get $t) (f64x2.add (v128.load offset=16 (local.get $t)) (v128.load offset=16 (local.get $f))))
        (v128.store offset=32 (local.get $t) (f64x2.add (v128.load offset=32 (local.get $t)) (v128.load offset=32 (local.get $f))))
        (v128.store offset=48 (local.get $t) (f64x2.add (v128.load offset=48 (local.get $t)) (v128.load offset=48 (local.get $f))))
        (v128.store offset=64 (local.get $t) (f64x2.add (v128.load offset=64 (local.get $t)) (v128.load offset=64 (local.get $f))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br_if $rows (i32.lt_u (local.get $i) (local.get $n))))))

  ;; to[j] += from[j] for the 7840 f64 of a full matrix.
  (func (export "addAll") (param $fromAt i32) (param $toAt i32)
    (local $o i32)
    (loop $pairs
      (v128.store (i32.add (local.get $toAt) (local.get $o))
        (f64x2.add (v128.load (i32.add (local.get $toAt) (local.get $o))) (v128.load (i32.add (local.get $fromAt) (local.get $o)))))
      (local.set $o (i32.add (local.get $o) (i32.const 16)))
      (br_if $pairs (i32.lt_u (local.get $o) (i32.const 62720)))))

  ;; The forward pass of sample $i, the one home in this module of the arithmetic that every party
  ;; must share bit for bit (../forward.ts is the same in JS; run() and evaluate() call this):
  ;; - z_k += W[p,k]·v over the nonzero pixels in ascending order, from 0 (W at $w), then
  ;;   z_k = z_k/255 + b_k (b at $w + 62720); the logits are stored at $zAt (10 f64);
  ;; - the first maximum and its index: if (z_k > max) { max = z_k; best = k }, in class order;
  ;; - e_k = exp(z_k − max); sum = ((0 + e_0) + e_1) + … + e_9;
  ;; - −log p_y = log(sum) − (z_y − max) for the sample's label y.
  ;; Returns e_k in pairs (e_0, e_1) … (e_8, e_9), sum, the index of the maximum, and −log p_y.
  (func $forward (param $i i32) (param $w i32) (param $zAt i32) (result v128 v128 v128 v128 v128 f64 i32 f64)
    (local $q i32) (local $end i32) (local $o i32) (local $best i32) (local $v v128)
    (local $z01 v128) (local $z23 v128) (local $z45 v128) (local $z67 v128) (local $z89 v128)
    (local $maxv v128) (local $zk f64) (local $max f64) (local $sum f64)
    (local $e0 f64) (local $e1 f64) (local $e2 f64) (local $e3 f64) (local $e4 f64)
    (local $e5 f64) (local $e6 f64) (local $e7 f64) (local $e8 f64) (local $e9 f64)
    (local.set $q (i32.load (i32.add (global.get $offsets) (i32.shl (local.get $i) (i32.const 2)))))
    (local.set $end (i32.load offset=4 (i32.add (global.get $offsets) (i32.shl (local.get $i) (i32.const 2)))))

    ;; z_k += W[p,k]·v, ascending pixels.
    (block $fwd_done
      (br_if $fwd_done (i32.ge_u (local.get $q) (local.get $end)))
      (loop $fwd
        (local.set $o (i32.add (local.get $w) (i32.mul
          (i32.load16_u (i32.add (global.get $pixels) (i32.shl (local.get $q) (i32.const 1))))
          (i32.const 80))))
        (local.set $v (f64x2.splat (f64.convert_i32_u
          (i32.load8_u (i32.add (global.get $values) (local.get $q))))))
        (local.set $z01 (f64x2.add (local.get $z01) (f64x2.mul (v128.load offset=0 (local.get $o)) (local.get $v))))
        (local.set $z23 (f64x2.add (local.get $z23) (f64x2.mul (v128.load offset=16 (local.get $o)) (local.get $v))))
        (local.set $z45 (f64x2.add (local.get $z45) (f64x2.mul (v128.load offset=32 (local.get $o)) (local.get $v))))
        (local.set $z67 (f64x2.add (local.get $z67) (f64x2.mul (v128.load offset=48 (local.get $o)) (local.get $v))))
        (local.set $z89 (f64x2.add (local.get $z89) (f64x2.mul (v128.load offset=64 (local.get $o)) (local.get $v))))
        (local.set $q (i32.add (local.get $q) (i32.const 1)))
        (br_if $fwd (i32.lt_u (local.get $q) (local.get $end)))))

    ;; z_k = z_k/255 + b_k
    (local.set $z01 (f64x2.add (f64x2.div (local.get $z01) (v128.const f64x2 255 255)) (v128.load offset=62720 (local.get $w))))
    (local.set $z23 (f64x2.add (f64x2.div (local.get $z23) (v128.const f64x2 255 255)) (v128.load offset=62736 (local.get $w))))
    (local.set $z45 (f64x2.add (f64x2.div (local.get $z45) (v128.const f64x2 255 255)) (v128.load offset=62752 (local.get $w))))
    (local.set $z67 (f64x2.add (f64x2.div (local.get $z67) (v128.const f64x2 255 255)) (v128.load offset=62768 (local.get $w))))
    (local.set $z89 (f64x2.add (f64x2.div (local.get $z89) (v128.const f64x2 255 255)) (v128.load offset=62784 (local.get $w))))
    (v128.store offset=0 (local.get $zAt) (local.get $z01))
    (v128.store offset=16 (local.get $zAt) (local.get $z23))
    (v128.store offset=32 (local.get $zAt) (local.get $z45))
    (v128.store offset=48 (local.get $zAt) (local.get $z67))
    (v128.store offset=64 (local.get $zAt) (local.get $z89))

    ;; max and first argmax: if (z_k > max) { max = z_k; best = k }
    (local.set $max (f64x2.extract_lane 0 (local.get $z01)))
    (local.set $zk (f64x2.extract_lane 1 (local.get $z01)))
    (if (f64.gt (local.get $zk) (local.get $max)) (then (local.set $max (local.get $zk)) (local.set $best (i32.const 1))))
    (local.set $zk (f64x2.extract_lane 0 (local.get $z23)))
    (if (f64.gt (local.get $zk) (local.get $max)) (then (local.set $max (local.get $zk)) (local.set $best (i32.const 2))))
    (local.set $zk (f64x2.extract_lane 1 (local.get $z23)))
    (if (f64.gt (local.get $zk) (local.get $max)) (then (local.set $max (local.get $zk)) (local.set $best (i32.const 3))))
    (local.set $zk (f64x2.extract_lane 0 (local.get $z45)))
    (if (f64.gt (local.get $zk) (local.get $max)) (then (local.set $max (local.get $zk)) (local.set $best (i32.const 4))))
    (local.set $zk (f64x2.extract_lane 1 (local.get $z45)))
    (if (f64.gt (local.get $zk) (local.get $max)) (then (local.set $max (local.get $zk)) (local.set $best (i32.const 5))))
    (local.set $zk (f64x2.extract_lane 0 (local.get $z67)))
    (if (f64.gt (local.get $zk) (local.get $max)) (then (local.set $max (local.get $zk)) (local.set $best (i32.const 6))))
    (local.set $zk (f64x2.extract_lane 1 (local.get $z67)))
    (if (f64.gt (local.get $zk) (local.get $max)) (then (local.set $max (local.get $zk)) (local.set $best (i32.const 7))))
    (local.set $zk (f64x2.extract_lane 0 (local.get $z89)))
    (if (f64.gt (local.get $zk) (local.get $max)) (then (local.set $max (local.get $zk)) (local.set $best (i32.const 8))))
    (local.set $zk (f64x2.extract_lane 1 (local.get $z89)))
    (if (f64.gt (local.get $zk) (local.get $max)) (then (local.set $max (local.get $zk)) (local.set $best (i32.const 9))))

    ;; e_k = exp(z_k − max); sum = ((0 + e_0) + e_1) + … + e_9
    (local.set $maxv (f64x2.splat (local.get $max)))
    (local.set $v (f64x2.sub (local.get $z01) (local.get $maxv)))
    (local.set $e0 (call $exp (f64x2.extract_lane 0 (local.get $v))))
    (local.set $e1 (call $exp (f64x2.extract_lane 1 (local.get $v))))
    (local.set $v (f64x2.sub (local.get $z23) (local.get $maxv)))
    (local.set $e2 (call $exp (f64x2.extract_lane 0 (local.get $v))))
    (local.set $e3 (call $exp (f64x2.extract_lane 1 (local.get $v))))
    (local.set $v (f64x2.sub (local.get $z45) (local.get $maxv)))
    (local.set $e4 (call $exp (f64x2.extract_lane 0 (local.get $v))))
    (local.set $e5 (call $exp (f64x2.extract_lane 1 (local.get $v))))
    (local.set $v (f64x2.sub (local.get $z67) (local.get $maxv)))
    (local.set $e6 (call $exp (f64x2.extract_lane 0 (local.get $v))))
    (local.set $e7 (call $exp (f64x2.extract_lane 1 (local.get $v))))
    (local.set $v (f64x2.sub (local.get $z89) (local.get $maxv)))
    (local.set $e8 (call $exp (f64x2.extract_lane 0 (local.get $v))))
    (local.set $e9 (call $exp (f64x2.extract_lane 1 (local.get $v))))
    (local.set $sum (f64.add (f64.const 0) (local.get $e0)))
    (local.set $sum (f64.add (local.get $sum) (local.get $e1)))
    (local.set $sum (f64.add (local.get $sum) (local.get $e2)))
    (local.set $sum (f64.add (local.get $sum) (local.get $e3)))
    (local.set $sum (f64.add (local.get $sum) (local.get $e4)))
    (local.set $sum (f64.add (local.get $sum) (local.get $e5)))
    (local.set $sum (f64.add (local.get $sum) (local.get $e6)))
    (local.set $sum (f64.add (local.get $sum) (local.get $e7)))
    (local.set $sum (f64.add (local.get $sum) (local.get $e8)))
    (local.set $sum (f64.add (local.get $sum) (local.get $e9)))

    (f64x2.replace_lane 1 (f64x2.splat (local.get $e0)) (local.get $e1))
    (f64x2.replace_lane 1 (f64x2.splat (local.get $e2)) (local.get $e3))
    (f64x2.replace_lane 1 (f64x2.splat (local.get $e4)) (local.get $e5))
    (f64x2.replace_lane 1 (f64x2.splat (local.get $e6)) (local.get $e7))
    (f64x2.replace_lane 1 (f64x2.splat (local.get $e8)) (local.get $e9))
    (local.get $sum)
    (local.get $best)
    ;; −log p_y = log(sum) − (z_y − max)
    (f64.sub (call $log (local.get $sum))
      (f64.sub
        (f64.load (i32.add (local.get $zAt)
          (i32.shl (i32.load8_u (i32.add (global.get $labels) (local.get $i))) (i32.const 3))))
        (local.get $max))))

  ;; Test-set measurements with the weights at $weights (see run()), as ../js-kernel.ts computes
  ;; them: for each sample, $forward; lossSum += −log p_y in sample order, correct predictions
  ;; counted and confusion[10·y + prediction] (100 u32 at 131280) counted up. Samples are t = 0..n)
  ;; or, when $indexed, the u32 indices at 131680 (the batch's place). lossSum starts from $loss0,
  ;; so that a long subset can be taken in several calls with the one running sum. Returns lossSum
  ;; and the number of correct predictions.
  (func (export "evaluate") (param $n i32) (param $indexed i32) (param $loss0 f64) (result f64 i32)
    (local $t i32) (local $i i32) (local $o i32) (local $y i32) (local $best i32) (local $correct i32)
    (local $base i32) (local $loss f64) (local $nll f64)
    (local.set $base (global.get $base))
    (local.set $loss (local.get $loss0))
    (block $samples_done
      (br_if $samples_done (i32.eqz (local.get $n)))
      (loop $samples
        (local.set $i (local.get $t))
        (if (local.get $indexed)
          (then (local.set $i (i32.load offset=131680 (i32.add (local.get $base) (i32.shl (local.get $t) (i32.const 2)))))))
        (call $forward (local.get $i) (global.get $weights) (i32.add (local.get $base) (i32.const 125600)))
        (local.set $nll)
        (local.set $best)
        (drop) ;; sum
        (drop) (drop) (drop) (drop) (drop) ;; the exponentials

        (local.set $loss (f64.add (local.get $loss) (local.get $nll)))
        (local.set $y (i32.load8_u (i32.add (global.get $labels) (local.get $i))))
        (if (i32.eq (local.get $best) (local.get $y))
          (then (local.set $correct (i32.add (local.get $correct) (i32.const 1)))))
        (local.set $o (i32.add (local.get $base)
          (i32.shl (i32.add (i32.mul (local.get $y) (i32.const 10)) (local.get $best)) (i32.const 2))))
        (i32.store offset=131280 (local.get $o) (i32.add (i32.load offset=131280 (local.get $o)) (i32.const 1)))

        (local.set $t (i32.add (local.get $t) (i32.const 1)))
        (br_if $samples (i32.lt_u (local.get $t) (local.get $n)))))
    (local.get $loss)
    (local.get $correct))

  ;; Adds the samples batch[0..n) (u32 indices at 131680) into gW, gb, loss and correct, and their
  ;; pixel rows into the row set; `rows` is the set's size so far, the new size is returned.
  (func (export "run") (param $n i32) (param $generation i32) (param $rows i32) (result i32)
    (local $t i32) (local $i i32) (local $q i32) (local $end i32)
    (local $p i32) (local $o i32) (local $y i32) (local $best i32) (local $correct i32) (local $base i32) (local $w i32)
    (local $v v128)
    (local $e01 v128) (local $e23 v128) (local $e45 v128) (local $e67 v128) (local $e89 v128)
    (local $d01 v128) (local $d23 v128) (local $d45 v128) (local $d67 v128) (local $d89 v128)
    (local $g01 v128) (local $g23 v128) (local $g45 v128) (local $g67 v128) (local $g89 v128)
    (local $invv v128)
    (local $sum f64) (local $nll f64) (local $loss f64)

    (local.set $base (global.get $base))
    (local.set $w (global.get $weights))
    (local.set $loss (f64.load offset=126560 (local.get $base)))
    (local.set $correct (i32.load offset=126568 (local.get $base)))
    (local.set $g01 (v128.load offset=125520 (local.get $base)))
    (local.set $g23 (v128.load offset=125536 (local.get $base)))
    (local.set $g45 (v128.load offset=125552 (local.get $base)))
    (local.set $g67 (v128.load offset=125568 (local.get $base)))
    (local.set $g89 (v128.load offset=125584 (local.get $base)))

    (block $samples_done
      (br_if $samples_done (i32.eqz (local.get $n)))
      (loop $samples
        (local.set $i (i32.load offset=131680 (i32.add (local.get $base) (i32.shl (local.get $t) (i32.const 2)))))
        (call $forward (local.get $i) (local.get $w) (i32.add (local.get $base) (i32.const 125600)))
        (local.set $nll)
        (local.set $best)
        (local.set $sum)
        (local.set $e89)
        (local.set $e67)
        (local.set $e45)
        (local.set $e23)
        (local.set $e01)

        (local.set $y (i32.load8_u (i32.add (global.get $labels) (local.get $i))))
        (if (i32.eq (local.get $best) (local.get $y))
          (then (local.set $correct (i32.add (local.get $correct) (i32.const 1)))))

        ;; d_k = round((e_k·(1/sum) − [k = y])·2²⁴)
        (local.set $invv (f64x2.splat (f64.div (f64.const 1) (local.get $sum))))
        (local.set $o (i32.add (local.get $base) (i32.add (i32.const 125760) (i32.mul (local.get $y) (i32.const 80)))))
        (local.set $d01 (call $round2 (f64x2.mul (f64x2.sub
          (f64x2.mul (local.get $e01) (local.get $invv))
          (v128.load offset=0 (local.get $o))) (v128.const f64x2 16777216 16777216))))
        (local.set $d23 (call $round2 (f64x2.mul (f64x2.sub
          (f64x2.mul (local.get $e23) (local.get $invv))
          (v128.load offset=16 (local.get $o))) (v128.const f64x2 16777216 16777216))))
        (local.set $d45 (call $round2 (f64x2.mul (f64x2.sub
          (f64x2.mul (local.get $e45) (local.get $invv))
          (v128.load offset=32 (local.get $o))) (v128.const f64x2 16777216 16777216))))
        (local.set $d67 (call $round2 (f64x2.mul (f64x2.sub
          (f64x2.mul (local.get $e67) (local.get $invv))
          (v128.load offset=48 (local.get $o))) (v128.const f64x2 16777216 16777216))))
        (local.set $d89 (call $round2 (f64x2.mul (f64x2.sub
          (f64x2.mul (local.get $e89) (local.get $invv))
          (v128.load offset=64 (local.get $o))) (v128.const f64x2 16777216 16777216))))

        ;; loss += round(−log p_y·2²⁴)
        (local.set $loss (f64.add (local.get $loss) (call $round (f64.mul (local.get $nll) (f64.const 16777216)))))

        ;; gb_k += d_k
        (local.set $g01 (f64x2.add (local.get $g01) (local.get $d01)))
        (local.set $g23 (f64x2.add (local.get $g23) (local.get $d23)))
        (local.set $g45 (f64x2.add (local.get $g45) (local.get $d45)))
        (local.set $g67 (f64x2.add (local.get $g67) (local.get $d67)))
        (local.set $g89 (f64x2.add (local.get $g89) (local.get $d89)))

        ;; Backward: gW[p,k] += v·d_k; and the row set.
        (local.set $q (i32.load (i32.add (global.get $offsets) (i32.shl (local.get $i) (i32.const 2)))))
        (local.set $end (i32.load offset=4 (i32.add (global.get $offsets) (i32.shl (local.get $i) (i32.const 2)))))
        (block $bwd_done
          (br_if $bwd_done (i32.ge_u (local.get $q) (local.get $end)))
          (loop $bwd
            (local.set $p (i32.load16_u (i32.add (global.get $pixels) (i32.shl (local.get $q) (i32.const 1)))))
            (local.set $o (i32.add (local.get $base) (i32.mul (local.get $p) (i32.const 80))))
            (local.set $v (f64x2.splat (f64.convert_i32_u
              (i32.load8_u (i32.add (global.get $values) (local.get $q))))))
            (v128.store offset=62800 (local.get $o)
              (f64x2.add (v128.load offset=62800 (local.get $o)) (f64x2.mul (local.get $v) (local.get $d01))))
            (v128.store offset=62816 (local.get $o)
              (f64x2.add (v128.load offset=62816 (local.get $o)) (f64x2.mul (local.get $v) (local.get $d23))))
            (v128.store offset=62832 (local.get $o)
              (f64x2.add (v128.load offset=62832 (local.get $o)) (f64x2.mul (local.get $v) (local.get $d45))))
            (v128.store offset=62848 (local.get $o)
              (f64x2.add (v128.load offset=62848 (local.get $o)) (f64x2.mul (local.get $v) (local.get $d67))))
            (v128.store offset=62864 (local.get $o)
              (f64x2.add (v128.load offset=62864 (local.get $o)) (f64x2.mul (local.get $v) (local.get $d89))))
            (if (i32.ne (i32.load offset=126576 (i32.add (local.get $base) (i32.shl (local.get $p) (i32.const 2)))) (local.get $generation))
              (then
                (i32.store offset=126576 (i32.add (local.get $base) (i32.shl (local.get $p) (i32.const 2))) (local.get $generation))
                (i32.store16 offset=129712 (i32.add (local.get $base) (i32.shl (local.get $rows) (i32.const 1))) (local.get $p))
                (local.set $rows (i32.add (local.get $rows) (i32.const 1)))))
            (local.set $q (i32.add (local.get $q) (i32.const 1)))
            (br_if $bwd (i32.lt_u (local.get $q) (local.get $end)))))

        (local.set $t (i32.add (local.get $t) (i32.const 1)))
        (br_if $samples (i32.lt_u (local.get $t) (local.get $n)))))

    (v128.store offset=125520 (local.get $base) (local.get $g01))
    (v128.store offset=125536 (local.get $base) (local.get $g23))
    (v128.store offset=125552 (local.get $base) (local.get $g45))
    (v128.store offset=125568 (local.get $base) (local.get $g67))
    (v128.store offset=125584 (local.get $base) (local.get $g89))
    (f64.store offset=126560 (local.get $base) (local.get $loss))
    (i32.store offset=126568 (local.get $base) (local.get $correct))
    (local.get $rows))
)
