package parallel

import (
	"os"
	"runtime"
	"syscall"
)

// othersBusy reports whether, since its last call, other processes took CPU
// time this one could have used: the busy time of all CPUs in /proc/stat
// (steal included: a VM's host busy elsewhere) minus this process's own CPU
// time, beyond the CPUs GOMAXPROCS leaves spare, by more than 0.3 CPUs.
// /proc/stat counts in ticks of 10 ms, hence the window of a fifth of a second
// between looks. t is now(); ok is false when the counters cannot be read.
func othersBusy(t int64) (busy, ok bool) {
	sys, ok := systemBusyMicros()
	var ru syscall.Rusage
	if !ok || syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return false, false
	}
	own := ru.Utime.Nano()/1000 + ru.Stime.Nano()/1000
	last := load.last
	load.last = loadSample{t, sys, own}
	if last.t == 0 {
		return false, true // the first look only starts the window
	}
	wall := (t - last.t) / 1000 // µs
	others := (sys - last.sys) - (own - last.own)
	spare := int64(max(runtime.NumCPU()-runtime.GOMAXPROCS(0), 0))
	return wall > 0 && others*10 > wall*(10*spare+3), true
}

type loadSample struct{ t, sys, own int64 } // now(), µs busy, µs own

var load struct {
	f    *os.File
	buf  [512]byte
	last loadSample
}

// systemBusyMicros is the CPUs' busy time from the first line of /proc/stat:
// user nice system idle iowait irq softirq steal, in ticks of 1/100 s.
func systemBusyMicros() (int64, bool) {
	if load.f == nil {
		f, err := os.Open("/proc/stat")
		if err != nil {
			return 0, false
		}
		load.f = f
	}
	n, err := load.f.ReadAt(load.buf[:], 0)
	if n == 0 && err != nil {
		return 0, false
	}
	b := load.buf[:n]
	if len(b) < 4 || string(b[:4]) != "cpu " {
		return 0, false
	}
	var busy int64
	field := 0
	for i := 4; i < len(b) && b[i] != '\n' && field < 8; {
		for i < len(b) && b[i] == ' ' {
			i++
		}
		var v int64
		digits := 0
		for ; i < len(b) && b[i] >= '0' && b[i] <= '9'; i++ {
			v = v*10 + int64(b[i]-'0')
			digits++
		}
		if digits == 0 {
			break
		}
		if field != 3 && field != 4 { // not idle, iowait
			busy += v
		}
		field++
	}
	if field < 8 {
		return 0, false
	}
	return busy * 10000, true
}
