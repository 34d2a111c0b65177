// Package sweep runs grids of faudit runs: archs × rules × seeds × penalties
// λ × train-blocks k, each grid point (a cell) an independent run directory
// that is trained with `faudit train` and audited with `faudit audit`, both
// as child processes of the running faudit binary.
//
// # Cells and names
//
// Grid.Cells expands a grid into cells sorted by (arch, rule, seed, λ, k),
// so a cell's index does not depend on the order in which the axis values
// were given. A cell's run directory is <out>/<arch>-<rule>-s<seed>, followed
// by -pen<λ> (λ in %g form) when the penalty axis has more than one value or
// λ ≠ 0, and by -k<k> when the train-blocks axis has more than one value or
// k ≠ −1. Axis values are distinct and arch names contain no hyphen, so
// names are unique.
//
// # Resuming
//
// A cell's state is read from its directory (see StatusOf): with audit.json
// it is done and skipped; with result.json it is only audited; with
// config.json it is continued with `faudit train --resume` (which also
// starts over cleanly when no epoch had finished: the checkpoint is then
// absent and training starts at epoch 1); otherwise it is trained afresh.
// train and audit write every file atomically, so a killed sweep leaves no
// file that a rerun could take for a finished run.
//
// # Frozen-blocks baselines
//
// D3 compares a run with the frozen-blocks baseline of its recipe, kept in
// <out>/baselines/frozen-<hash> (protocol.BaselineDir). Many cells share a
// baseline, so the sweep trains each missing one once, as its own job,
// before auditing the cells that need it, and passes it to `faudit audit
// --baseline`, so no audit ever trains a baseline. A baseline is trained in
// a private temporary directory next to its final place, from the exact
// config protocol.FrozenRecipe gives, and then renamed into place with one
// rename(2). When shards on different machines share the tree and race for
// the same baseline, each trains its own copy; the first rename wins, the
// others find the directory present, discard their copy and use the
// winner's. The final directory therefore only ever appears complete, and
// no lock has to be cleaned up after a crash. (A baseline directory left
// unfinished by an interrupted stand-alone `faudit audit` is finished in
// place instead.)
//
// # Pool
//
// Run executes the pending jobs of the cells it is given with a local worker
// pool: by default min(CPUs, pending cells) workers, each child process with
// GOMAXPROCS = max(1, CPUs/workers), so the machine is used once over. Audits
// go before baselines and baselines before training, so finished cells
// complete early. A failing cell is reported with the last line of its
// error output and the others go on. Cancelling the context sends the
// running children SIGTERM (faudit train checkpoints and stops); every child
// also gets SIGKILL should the sweep process die.
//
// # Clusters
//
// Shard selects the cells with index mod n = i, so n shards are disjoint and
// cover the grid. Slurm and K8s write a Slurm array script and a Kubernetes
// Indexed Job that run one shard per array task or completion index.
package sweep
