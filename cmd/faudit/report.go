package main

import (
	"context"
	"flag"
	"fmt"
	"os"

	faureport "github.com/faudit/faudit/report"
)

// reportSettings are the values the report flags write into.
type reportSettings struct {
	out string
}

var reportDest *reportSettings

func reportFlags() *flag.FlagSet {
	s := &reportSettings{}
	reportDest = s
	fs := flag.NewFlagSet("report", flag.ContinueOnError)
	fs.StringVar(&s.out, "out", "", "output directory (default: DIR/report)")
	return fs
}

// runReport aggregates every run under DIR, writes the report and prints
// the audit table and the path of report.html.
func runReport(_ context.Context, fs *flag.FlagSet) error {
	if fs.NArg() != 1 {
		return badInput(fmt.Errorf("expected one directory of runs: faudit report [flags] DIR"))
	}
	rep, path, err := faureport.Generate(fs.Arg(0), reportDest.out)
	if err != nil {
		return err // problems with the runs are marked as bad input (exit 2)
	}
	rep.Text(os.Stdout)
	fmt.Printf("report: %s (with report.md, report.csv, runs.csv, report.json and %d plots as SVG and PNG)\n", path, len(rep.Plots))
	return nil
}
