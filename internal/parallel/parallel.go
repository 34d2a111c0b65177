// Package parallel splits element-wise work over GOMAXPROCS goroutines.
//
// The split is a function of (n, GOMAXPROCS) only, and every element is
// computed by exactly one goroutine, so results are bit-identical across runs.
package parallel

import (
	"runtime"
	"sync"
)

// For calls f(lo, hi) on consecutive chunks covering [0, n). It runs f on one
// goroutine when work (the number of scalar operations, roughly) is below
// 1<<15, where a hand-off costs more than it saves.
func For(n, work int, f func(lo, hi int)) {
	p := runtime.GOMAXPROCS(0)
	if p > n {
		p = n
	}
	if p <= 1 || work < 1<<15 {
		f(0, n)
		return
	}
	var wg sync.WaitGroup
	wg.Add(p - 1)
	for i := 0; i < p-1; i++ {
		lo, hi := i*n/p, (i+1)*n/p
		go func() {
			f(lo, hi)
			wg.Done()
		}()
	}
	f((p-1)*n/p, n)
	wg.Wait()
}
