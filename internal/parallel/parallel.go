// Package parallel splits work over GOMAXPROCS goroutines.
//
// The split is a function of (n, GOMAXPROCS) only, and every element is
// computed by exactly one goroutine, so results are bit-identical across runs.
//
// The work runs on long-lived helper goroutines (GOMAXPROCS−1 of them; the
// caller takes the first part itself). A training step hands work over some
// fifty times, tens of microseconds apart, and waking a parked thread costs a
// futex call plus, in a VM, an inter-processor interrupt, several
// microseconds each time. So a helper that finishes spins for a short while
// (spinFor) waiting for the next part before it parks, and the caller spins
// while waiting for the helpers; a hand-off then costs well under a
// microsecond. The spinning only occupies processors that would otherwise be
// idle: the helpers are at most GOMAXPROCS−1.
//
// One caller at a time owns the helpers. A call that finds them busy (a
// concurrent caller, or a nested call from inside a part) runs all its parts
// itself, in order: the split, and so every result, is the same.
package parallel

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// Task is work split into parts: Run(part) for every part in [0, parts),
// each part independent of the others.
type Task interface{ Run(part int) }

// Procs is the number of parts work is split into at most: GOMAXPROCS.
func Procs() int { return runtime.GOMAXPROCS(0) }

// Run calls t.Run(part) for every part in [0, parts) and returns when all
// are done; parts beyond the first may run on helper goroutines. parts is
// capped at Procs() by the caller's choice of split; larger values work too
// (the caller runs the parts the helpers cannot take).
func Run(parts int, t Task) {
	run(parts, t, nil, 0)
}

// For calls f(lo, hi) on consecutive chunks covering [0, n). It runs f on one
// goroutine when work (the number of scalar operations, roughly) is below
// 1<<15, where a hand-off costs more than it saves.
func For(n, work int, f func(lo, hi int)) {
	p := Parts(n, work, 1<<15)
	if p <= 1 {
		f(0, n)
		return
	}
	run(p, nil, f, n)
}

// Parts is the number of parts For splits n items into for the given work:
// min(GOMAXPROCS, n), or 1 when work is below minWork.
func Parts(n, work, minWork int) int {
	p := runtime.GOMAXPROCS(0)
	if p > n {
		p = n
	}
	if p < 1 || work < minWork {
		return 1
	}
	return p
}

// call is the work of one Run or For: a Task, or f over [0, n) in parts.
type call struct {
	task  Task
	f     func(lo, hi int)
	n     int
	parts int
}

func (c *call) run(part int) {
	if c.task != nil {
		c.task.Run(part)
		return
	}
	c.f(part*c.n/c.parts, (part+1)*c.n/c.parts)
}

// spinFor is how long an idle helper, and a caller waiting for its helpers,
// polls before parking on a channel.
const spinFor = 200 * time.Microsecond

// helper i runs part i+1 of the current call when its gen changes.
type helper struct {
	gen      atomic.Uint64 // bumped by the caller to hand over a part
	sleeping atomic.Bool   // parked on wake
	wake     chan struct{} // buffered 1
	_        [64]byte      // keep helpers on separate cache lines
}

var pool struct {
	mu      sync.Mutex // owned by the caller of a call in flight
	cur     call
	helpers []*helper
	pending atomic.Int32 // parts handed to helpers and not yet done
	waiting atomic.Bool  // the caller parked on done
	done    chan struct{} // buffered 1
}

func init() { pool.done = make(chan struct{}, 1) }

func run(parts int, t Task, f func(lo, hi int), n int) {
	if !pool.mu.TryLock() {
		runInline(parts, t, f, n)
		return
	}
	c := &pool.cur
	c.task, c.f, c.n, c.parts = t, f, n, parts
	h := min(parts-1, runtime.GOMAXPROCS(0)-1)
	for len(pool.helpers) < h {
		hp := &helper{wake: make(chan struct{}, 1)}
		pool.helpers = append(pool.helpers, hp)
		go hp.loop(len(pool.helpers) - 1)
	}
	pool.pending.Store(int32(h))
	for i := 0; i < h; i++ {
		hp := pool.helpers[i]
		hp.gen.Add(1)
		if hp.sleeping.Load() {
			select {
			case hp.wake <- struct{}{}:
			default:
			}
		}
	}
	c.run(0)
	for p := h + 1; p < parts; p++ { // more parts than helpers
		c.run(p)
	}
	if pool.pending.Load() != 0 {
		waitHelpers()
	}
	c.task, c.f = nil, nil // drop references for the GC
	pool.mu.Unlock()
}

func runInline(parts int, t Task, f func(lo, hi int), n int) {
	c := call{t, f, n, parts}
	for p := 0; p < parts; p++ {
		c.run(p)
	}
}

// waitHelpers spins, then parks, until pool.pending is 0.
func waitHelpers() {
	start := time.Now()
	for i := 1; ; i++ {
		if pool.pending.Load() == 0 {
			return
		}
		if i%64 == 0 && time.Since(start) > spinFor {
			break
		}
		pause()
	}
	pool.waiting.Store(true)
	for pool.pending.Load() != 0 {
		<-pool.done // a stale token only costs one more check
	}
	pool.waiting.Store(false)
}

func (hp *helper) loop(i int) {
	var seen uint64 // gen starts at 0; the first call may have bumped it already
	for {
		seen = hp.await(seen)
		pool.cur.run(i + 1)
		if pool.pending.Add(-1) == 0 && pool.waiting.Load() {
			select {
			case pool.done <- struct{}{}:
			default:
			}
		}
	}
}

// await spins, then parks, until gen differs from seen, and returns it.
func (hp *helper) await(seen uint64) uint64 {
	start := time.Now()
	for i := 1; ; i++ {
		if g := hp.gen.Load(); g != seen {
			return g
		}
		if i%64 == 0 {
			if time.Since(start) > spinFor {
				break
			}
			if i%(64*64) == 0 {
				runtime.Gosched() // let other goroutines have this P
			}
		}
		pause()
	}
	for {
		hp.sleeping.Store(true)
		if g := hp.gen.Load(); g != seen {
			hp.sleeping.Store(false)
			return g
		}
		<-hp.wake
		hp.sleeping.Store(false)
	}
}
