;; The demo app: a Monte Carlo estimate of π, as a WASI module.
;;
;; `pi.wasm [SAMPLES]` draws SAMPLES points (1,000,000 by default, at most 4,000,000,000) in
;; the unit square from a fixed 64-bit LCG, counts those inside the quarter circle, and
;; writes `/output/result.txt`:
;;
;;     pi ~ 3.141592 (785398 of 1000000 samples)
;;
;; Integer arithmetic only, so every worker finds the same bytes. Build it with
;; `iexec-worker compile-wat worker/apps/pi.wat pi.wasm`, which prints its code hash.
(module
  (import "wasi_snapshot_preview1" "args_sizes_get" (func $args_sizes_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "args_get" (func $args_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_open"
    (func $path_open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (memory (export "memory") 1)
  ;; 0..: scratch; 256: argv pointers; 1024: argv strings; 4096: the line being written.
  (data (i32.const 3072) "result.txt")

  ;; SAMPLES from argv[1], or 1,000,000.
  (func $samples (result i64)
    (local $p i32) (local $n i64) (local $c i32)
    (drop (call $args_sizes_get (i32.const 0) (i32.const 4)))
    (if (i32.lt_u (i32.load (i32.const 0)) (i32.const 2)) (then (return (i64.const 1000000))))
    (drop (call $args_get (i32.const 256) (i32.const 1024)))
    (local.set $p (i32.load (i32.const 260)))
    (block $done
      (loop $digit
        (local.set $c (i32.load8_u (local.get $p)))
        (br_if $done (i32.lt_u (local.get $c) (i32.const 48)))
        (br_if $done (i32.gt_u (local.get $c) (i32.const 57)))
        (local.set $n (i64.add (i64.mul (local.get $n) (i64.const 10))
                               (i64.extend_i32_u (i32.sub (local.get $c) (i32.const 48)))))
        (br_if $done (i64.gt_u (local.get $n) (i64.const 4000000000)))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (br $digit)))
    (if (i64.eqz (local.get $n)) (then (return (i64.const 1000000))))
    (if (i64.gt_u (local.get $n) (i64.const 4000000000)) (then (return (i64.const 4000000000))))
    (local.get $n))

  ;; Writes `value` in decimal at `at`, at least `width` digits; returns the end.
  (func $decimal (param $at i32) (param $value i64) (param $width i32) (result i32)
    (local $digits i32) (local $v i64) (local $end i32)
    (local.set $v (local.get $value))
    (loop $count
      (local.set $digits (i32.add (local.get $digits) (i32.const 1)))
      (local.set $v (i64.div_u (local.get $v) (i64.const 10)))
      (br_if $count (i64.ne (local.get $v) (i64.const 0))))
    (if (i32.lt_u (local.get $digits) (local.get $width)) (then (local.set $digits (local.get $width))))
    (local.set $end (i32.add (local.get $at) (local.get $digits)))
    (local.set $v (local.get $value))
    (loop $write
      (local.set $digits (i32.sub (local.get $digits) (i32.const 1)))
      (i32.store8 (i32.add (local.get $at) (local.get $digits))
        (i32.add (i32.const 48) (i32.wrap_i64 (i64.rem_u (local.get $v) (i64.const 10)))))
      (local.set $v (i64.div_u (local.get $v) (i64.const 10)))
      (br_if $write (i32.gt_u (local.get $digits) (i32.const 0))))
    (local.get $end))

  ;; Copies the `len` bytes of a literal at `from` to `at`; returns the end.
  (func $text (param $at i32) (param $from i32) (param $len i32) (result i32)
    (memory.copy (local.get $at) (local.get $from) (local.get $len))
    (i32.add (local.get $at) (local.get $len)))
  (data (i32.const 3100) "pi ~ 3. ( of  samples)\0a")

  (func (export "_start")
    (local $n i64) (local $i i64) (local $x i64) (local $a i64) (local $b i64) (local $hits i64)
    (local $millionths i64) (local $at i32) (local $fd i32)
    (local.set $n (call $samples))
    (local.set $x (i64.const 0x2545F4914F6CDD1D))
    (loop $draw
      (local.set $x (i64.add (i64.mul (local.get $x) (i64.const 6364136223846793005)) (i64.const 1442695040888963407)))
      (local.set $a (i64.shr_u (local.get $x) (i64.const 40)))
      (local.set $x (i64.add (i64.mul (local.get $x) (i64.const 6364136223846793005)) (i64.const 1442695040888963407)))
      (local.set $b (i64.shr_u (local.get $x) (i64.const 40)))
      ;; a, b < 2^24: inside when a² + b² < 2^48.
      (if (i64.lt_u (i64.add (i64.mul (local.get $a) (local.get $a)) (i64.mul (local.get $b) (local.get $b)))
                    (i64.const 0x1000000000000))
        (then (local.set $hits (i64.add (local.get $hits) (i64.const 1)))))
      (local.set $i (i64.add (local.get $i) (i64.const 1)))
      (br_if $draw (i64.lt_u (local.get $i) (local.get $n))))
    ;; 4 × hits / n, to six decimals.
    (local.set $millionths (i64.div_u (i64.mul (local.get $hits) (i64.const 4000000)) (local.get $n)))
    (local.set $at (call $text (i32.const 4096) (i32.const 3100) (i32.const 5)))
    (local.set $at (call $decimal (local.get $at) (i64.div_u (local.get $millionths) (i64.const 1000000)) (i32.const 1)))
    (i32.store8 (local.get $at) (i32.const 46))
    (local.set $at (call $decimal (i32.add (local.get $at) (i32.const 1)) (i64.rem_u (local.get $millionths) (i64.const 1000000)) (i32.const 6)))
    (local.set $at (call $text (local.get $at) (i32.const 3107) (i32.const 2)))
    (local.set $at (call $decimal (local.get $at) (local.get $hits) (i32.const 1)))
    (local.set $at (call $text (local.get $at) (i32.const 3109) (i32.const 4)))
    (local.set $at (call $decimal (local.get $at) (local.get $n) (i32.const 1)))
    (local.set $at (call $text (local.get $at) (i32.const 3113) (i32.const 10)))
    ;; /output is preopened as fd 3 when there is no input.
    (if (call $path_open (i32.const 3) (i32.const 0) (i32.const 3072) (i32.const 10)
          (i32.const 9) (i64.const 0x1fffffff) (i64.const 0x1fffffff) (i32.const 0) (i32.const 8))
      (then (call $proc_exit (i32.const 1))))
    (local.set $fd (i32.load (i32.const 8)))
    (i32.store (i32.const 16) (i32.const 4096))
    (i32.store (i32.const 20) (i32.sub (local.get $at) (i32.const 4096)))
    (drop (call $fd_write (local.get $fd) (i32.const 16) (i32.const 1) (i32.const 24)))))
