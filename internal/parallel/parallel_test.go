package parallel

import (
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
)

func TestForCoversEachIndexOnce(t *testing.T) {
	for _, n := range []int{0, 1, 2, 3, 7, 1000, 100003} {
		for _, work := range []int{1, 1 << 20} {
			seen := make([]int32, n)
			For(n, work, func(lo, hi int) {
				for i := lo; i < hi; i++ {
					seen[i]++
				}
			})
			for i, c := range seen {
				if c != 1 {
					t.Fatalf("n=%d work=%d: index %d visited %d times", n, work, i, c)
				}
			}
		}
	}
}

type countTask struct{ hits []int32 }

func (c *countTask) Run(p int) { atomic.AddInt32(&c.hits[p], 1) }

// TestRunNestedAndConcurrent: every part runs exactly once, whether the
// helpers are free, busy with a concurrent caller, or the call is nested in
// a part of another (then the parts run inline on the caller).
func TestRunNestedAndConcurrent(t *testing.T) {
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for it := 0; it < 200; it++ {
				outer := &countTask{hits: make([]int32, 5)}
				inner := make([]*countTask, 5)
				For(5, 1<<20, func(lo, hi int) {
					for p := lo; p < hi; p++ {
						inner[p] = &countTask{hits: make([]int32, 3)}
						Run(3, inner[p])
						outer.Run(p)
					}
				})
				for p, h := range outer.hits {
					if h != 1 {
						t.Errorf("outer part %d ran %d times", p, h)
					}
					for q, h := range inner[p].hits {
						if h != 1 {
							t.Errorf("inner part %d/%d ran %d times", p, q, h)
						}
					}
				}
			}
		}()
	}
	wg.Wait()
}

// TestRunMoreProcs: raising GOMAXPROCS starts more helpers; more parts than
// processors still run once each.
func TestRunMoreProcs(t *testing.T) {
	old := runtime.GOMAXPROCS(4)
	defer runtime.GOMAXPROCS(old)
	for _, parts := range []int{1, 2, 4, 7} {
		c := &countTask{hits: make([]int32, parts)}
		Run(parts, c)
		for p, h := range c.hits {
			if h != 1 {
				t.Errorf("parts=%d: part %d ran %d times", parts, p, h)
			}
		}
	}
}

func TestRunAllocFree(t *testing.T) {
	c := &countTask{hits: make([]int32, 2)}
	if a := testing.AllocsPerRun(100, func() { Run(2, c) }); a != 0 {
		t.Errorf("Run allocates %.1f times per call", a)
	}
}

// BenchmarkHandOff is the cost of one Run of trivial parts on all processors.
func BenchmarkHandOff(b *testing.B) {
	c := &countTask{hits: make([]int32, runtime.GOMAXPROCS(0))}
	for b.Loop() {
		Run(len(c.hits), c)
	}
}
