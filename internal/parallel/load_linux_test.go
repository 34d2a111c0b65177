package parallel

import (
	"testing"
	"time"
)

// TestOthersBusy: the /proc/stat reader parses, an idle wait reads as not
// busy, and a busy goroutine of this process does not count as "others".
func TestOthersBusy(t *testing.T) {
	if _, ok := systemBusyMicros(); !ok {
		t.Fatal("cannot read /proc/stat")
	}
	othersBusy(now())
	stop := time.Now().Add(300 * time.Millisecond)
	for time.Now().Before(stop) { // our own CPU time
	}
	busy, ok := othersBusy(now())
	if !ok {
		t.Fatal("othersBusy: counters not readable")
	}
	// Another process on the machine may make this true; only log it.
	t.Logf("others busy while this process spun: %v", busy)
}
