// Package parallel splits work over GOMAXPROCS goroutines.
//
// The split is a function of (n, GOMAXPROCS) only, and every element is
// computed by exactly one goroutine, so results are bit-identical across runs.
//
// The work runs on long-lived helper goroutines (GOMAXPROCS−1 of them) and on
// the caller. Parts are claimed in turn from a shared counter, so which
// goroutine runs a part varies, but a part's result does not: a caller whose
// helpers are slow to wake (a busy machine) simply runs the remaining parts
// itself instead of waiting for them. A training step hands work over some
// fifty times; a helper that finishes spins a while for the next call before
// it parks, and so does a caller waiting for a helper's last part: up to
// 100 µs on an idle machine, 2 µs while other processes keep the CPUs busy
// (see maxSpin).
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

// Run calls t.Run(part) for every part in [0, parts), each on the caller or
// a helper goroutine, and returns when all are done. Parts beyond Procs()
// work too (they queue up).
func Run(parts int, t Task) {
	run(parts, t, nil, 0)
}

// MinWork is the work (scalar operations, roughly) below which For runs on
// one goroutine, where a hand-off costs more than it saves.
const MinWork = 1 << 15

// For calls f(lo, hi) on consecutive chunks covering [0, n), on one goroutine
// when work is below MinWork. (A caller on a hot path can test
// Parts(n, work, MinWork) <= 1 first and skip building the closure: a closure
// handed to For escapes to the heap.)
func For(n, work int, f func(lo, hi int)) {
	p := Parts(n, work, MinWork)
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

// How long an idle helper, and a caller waiting for a helper's part, poll
// before parking on a channel. On an idle machine a long spin (maxSpin)
// bridges the short serial stretches between calls: a training step ran 20 %
// faster than with a 2 µs spin, since parking and waking cost a futex call
// each and, in a VM, tens of microseconds. But when other processes keep the
// CPUs busy, the spinning takes CPU time the work needs (a step 10–17 %
// slower next to one busy process), so there the spin is minSpin. Which case holds
// is read off the system's CPU accounting every window (see othersBusy); where
// that is not available, the spin is fallbackSpin, a compromise.
var (
	maxSpin      = 100 * time.Microsecond
	minSpin      = 2 * time.Microsecond
	fallbackSpin = 30 * time.Microsecond
	window       = 200 * time.Millisecond
)

var (
	epoch     = time.Now()
	spinFor   atomic.Int64 // current spin, ns
	lastLook  atomic.Int64 // now() at the last look at the load
	lookingMu sync.Mutex
)

func init() { spinFor.Store(int64(fallbackSpin)) }

// now is monotonic nanoseconds.
func now() int64 { return int64(time.Since(epoch)) }

// lookAtLoad sets spinFor from the load once per window.
func lookAtLoad() {
	t := now()
	if t-lastLook.Load() < int64(window) || !lookingMu.TryLock() {
		return
	}
	defer lookingMu.Unlock()
	lastLook.Store(t)
	switch busy, ok := othersBusy(t); {
	case !ok:
		spinFor.Store(int64(fallbackSpin))
	case busy:
		spinFor.Store(int64(minSpin))
	default:
		spinFor.Store(int64(maxSpin))
	}
}

// helper is a long-lived goroutine that joins the call whose id it is given.
type helper struct {
	gen      atomic.Uint64 // id of the latest call it was asked to join
	sleeping atomic.Bool   // parked on wake
	wake     chan struct{} // buffered 1
	_        [64]byte      // keep helpers on separate cache lines
}

var pool struct {
	mu      sync.Mutex // owned by the caller of the call in flight
	id      uint32     // the call in flight (written under mu)
	cur     call
	helpers []*helper
	// claim is id<<32 | parts<<16 | next: the caller and the helpers take
	// parts in turn by bumping next, so a part never waits for a helper that
	// is slow to wake (a busy machine): the caller takes it itself.
	claim   atomic.Uint64
	done    atomic.Int32  // parts finished in the call in flight
	waiting atomic.Bool   // the caller parked on doneCh
	doneCh  chan struct{} // buffered 1
}

func init() { pool.doneCh = make(chan struct{}, 1) }

// maxParts bounds the parts of one call (they are counted in 16 bits).
const maxParts = 1<<16 - 1

func run(parts int, t Task, f func(lo, hi int), n int) {
	if parts > maxParts || !pool.mu.TryLock() {
		runInline(parts, t, f, n)
		return
	}
	pool.id++
	id := pool.id
	c := &pool.cur
	c.task, c.f, c.n, c.parts = t, f, n, parts
	pool.done.Store(0)
	pool.claim.Store(uint64(id)<<32 | uint64(parts)<<16)
	h := min(parts-1, runtime.GOMAXPROCS(0)-1)
	for len(pool.helpers) < h {
		hp := &helper{wake: make(chan struct{}, 1)}
		pool.helpers = append(pool.helpers, hp)
		go hp.loop()
	}
	for _, hp := range pool.helpers[:h] {
		hp.gen.Store(uint64(id))
		if hp.sleeping.Load() {
			select {
			case hp.wake <- struct{}{}:
			default:
			}
		}
	}
	for {
		p, _, ok := claim(id)
		if !ok {
			break
		}
		c.run(p)
		pool.done.Add(1)
	}
	if int(pool.done.Load()) != parts {
		waitHelpers(int32(parts))
	}
	c.task, c.f = nil, nil // drop references for the GC
	pool.mu.Unlock()
}

// claim takes the next part of call id, if that call still has one.
func claim(id uint32) (part, parts int, ok bool) {
	for {
		v := pool.claim.Load()
		parts, next := int(v>>16&0xffff), int(v&0xffff)
		if uint32(v>>32) != id || next >= parts {
			return 0, 0, false
		}
		if pool.claim.CompareAndSwap(v, v+1) {
			return next, parts, true
		}
	}
}

func runInline(parts int, t Task, f func(lo, hi int), n int) {
	c := call{t, f, n, parts}
	for p := 0; p < parts; p++ {
		c.run(p)
	}
}

// waitHelpers spins, then parks, until all parts of the call are done.
func waitHelpers(parts int32) {
	start, spin := now(), spinFor.Load()
	for i := 1; ; i++ {
		if pool.done.Load() == parts {
			return
		}
		if i%16 == 0 && now()-start > spin {
			break
		}
		pause()
	}
	pool.waiting.Store(true)
	for pool.done.Load() != parts {
		<-pool.doneCh // a stale token only costs one more check
	}
	pool.waiting.Store(false)
}

func (hp *helper) loop() {
	var seen uint64
	for {
		seen = hp.await(seen)
		for {
			p, parts, ok := claim(uint32(seen))
			if !ok {
				break
			}
			pool.cur.run(p) // safe: the call cannot end before this part is done
			if pool.done.Add(1) == int32(parts) && pool.waiting.Load() {
				select {
				case pool.doneCh <- struct{}{}:
				default:
				}
			}
		}
	}
}

// await spins, then parks, until gen differs from seen, and returns it.
func (hp *helper) await(seen uint64) uint64 {
	lookAtLoad()
	start, spin := now(), spinFor.Load()
	for i := 1; ; i++ {
		if g := hp.gen.Load(); g != seen {
			return g
		}
		if i%16 == 0 {
			if now()-start > spin {
				break
			}
			if i%(16*256) == 0 {
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
