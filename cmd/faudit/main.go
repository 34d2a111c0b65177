// Command faudit trains networks with backpropagation and feedback-alignment
// rules and audits their credit assignment. Run `faudit --help`.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/faudit/faudit"
	"github.com/faudit/faudit/train"
)

// command is one subcommand: its flags and what it does with them.
type command struct {
	name, summary string
	args          string // positional arguments, for the usage line ("" = none)
	flags         func() *flag.FlagSet
	run           func(ctx context.Context, fs *flag.FlagSet) error
}

var commands = []command{
	{"train", "train a model with a learning rule and write a run directory", "", trainFlags, runTrain},
	{"demo", "faudit's main job: train BP, FA, DFA and DFA with the scale penalty on MNIST, audit them, show what the standard pair and the protocol say, and write the report", "", demoFlags, runDemo},
	{"audit", "run the diagnostic protocol on a finished run and write audit.json and audit.md", "DIR", auditFlags, runAudit},
	{"sweep", "train and audit a grid of runs (archs × rules × seeds × penalties) with a local worker pool, or one shard of it, or emit a Slurm/Kubernetes job for it", "", sweepFlags, runSweep},
	{"ladder", "the depth ladder: train only the last k blocks for k = 0 … L and report accuracy against k", "", ladderFlags, runLadder},
	{"report", "aggregate every run under DIR into the audit table, plots and one self-contained HTML file", "DIR", reportFlags, runReport},
	{"version", "print the faudit version", "", func() *flag.FlagSet { return flag.NewFlagSet("version", flag.ContinueOnError) },
		func(context.Context, *flag.FlagSet) error { fmt.Println("faudit", faudit.Version); return nil }},
}

func main() { os.Exit(Main(os.Args[1:], os.Stdout, os.Stderr)) }

// Main runs faudit with args and returns the exit status: 0 success, 1 a
// failure while running, 2 bad input (flags, data, run directory), 130
// interrupted.
func Main(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stdout)
		return 0
	}
	var cmd *command
	for i := range commands {
		if commands[i].name == args[0] {
			cmd = &commands[i]
		}
	}
	if cmd == nil {
		fmt.Fprintf(stderr, "faudit: unknown command %q (expected one of: %s); see faudit --help\n", args[0], names())
		return 2
	}
	fs := cmd.flags()
	fs.SetOutput(io.Discard)
	// Flags may stand before or after the positional arguments.
	var positional []string
	for rest := args[1:]; ; {
		if err := fs.Parse(rest); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				fmt.Fprintf(stdout, "usage: faudit %s [flags] %s\n\n%s.\n\nflags:\n", cmd.name, cmd.args, cmd.summary)
				printFlags(stdout, fs)
				return 0
			}
			fmt.Fprintf(stderr, "faudit %s: %v; see faudit %s --help\n", cmd.name, err, cmd.name)
			return 2
		}
		if fs.NArg() == 0 {
			break
		}
		positional, rest = append(positional, fs.Arg(0)), fs.Args()[1:]
	}
	if cmd.args == "" && len(positional) > 0 {
		fmt.Fprintf(stderr, "faudit %s: unexpected argument %q; see faudit %s --help\n", cmd.name, positional[0], cmd.name)
		return 2
	}
	fs.Parse(positional) // leave the positional arguments in fs.Args()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := cmd.run(ctx, fs)
	switch {
	case err == nil:
		return 0
	case errors.Is(err, train.ErrInterrupted):
		fmt.Fprintf(stderr, "faudit %s: %v\n", cmd.name, err)
		return 130
	case errors.Is(err, train.ErrBadInput):
		fmt.Fprintf(stderr, "faudit %s: %v\n", cmd.name, err)
		return 2
	default:
		fmt.Fprintf(stderr, "faudit %s: %v\n", cmd.name, err)
		return 1
	}
}

func names() string {
	s := ""
	for i, c := range commands {
		if i > 0 {
			s += ", "
		}
		s += c.name
	}
	return s
}

func usage(w io.Writer) {
	fmt.Fprintf(w, "faudit %s: train networks with backpropagation and feedback-alignment rules, and audit their credit assignment.\n\n", faudit.Version)
	fmt.Fprintf(w, "usage: faudit <command> [flags]\n\ncommands:\n")
	for _, c := range commands {
		fmt.Fprintf(w, "  %-10s %s\n", c.name, c.summary)
	}
	// sweep and ladder take every train and audit flag too; list only
	// their own here (faudit sweep --help lists all).
	inherited := map[string]bool{}
	for _, fs := range []*flag.FlagSet{trainFlags(), auditFlags()} {
		fs.VisitAll(func(f *flag.Flag) { inherited[f.Name] = true })
	}
	for _, c := range commands {
		fs := c.flags()
		own := flag.NewFlagSet(c.name, flag.ContinueOnError)
		grid := c.name == "sweep" || c.name == "ladder"
		fs.VisitAll(func(f *flag.Flag) {
			if !grid || !inherited[f.Name] {
				own.Var(f.Value, f.Name, f.Usage)
			}
		})
		n := 0
		own.VisitAll(func(*flag.Flag) { n++ })
		if n == 0 {
			continue
		}
		fmt.Fprintf(w, "\nfaudit %s flags:\n", c.name)
		if grid {
			fmt.Fprintf(w, "  (and every faudit train flag, applied to each cell — --arch, --rule, --seed, --penalty give one-value axes, --audit-every defaults to 1 —\n   and every faudit audit flag but --baseline and --json; faudit %s --help lists them all)\n", c.name)
		}
		printFlags(w, own)
	}
	fmt.Fprintf(w, "\nExit status: 0 success, 1 failure while running, 2 bad input, 130 interrupted.\n")
}

// printFlags lists every flag with its default, one per line.
func printFlags(w io.Writer, fs *flag.FlagSet) {
	fs.VisitAll(func(f *flag.Flag) {
		def := f.DefValue
		if def == "" {
			def = `""`
		}
		fmt.Fprintf(w, "  --%-16s %s (default %s)\n", f.Name, f.Usage, def)
	})
}
