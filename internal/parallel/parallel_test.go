package parallel

import "testing"

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
