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
// names are unique. A k = 0 cell is the exception: see below.
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
// # k = 0 cells
//
// With train-blocks 0 no block learns and the rule, the local norm and the
// penalty have nothing to act on: the run is the frozen-blocks baseline of
// its recipe. So a k = 0 cell is no run directory of its own: ResolveFrozen
// points its Dir at protocol.BaselineDir of its recipe, the very directory
// the D3 of its k ≠ 0 siblings uses, and records the config it is trained
// from in Frozen (sweep.json's frozen_recipe; its train_args stay the grid
// point's, for the checks of a rerun). Its name and index are unchanged.
// The cell is trained by the baseline job above, in a temporary directory
// renamed into place, once however many cells need it, and is resumed,
// sharded and raced for like any baseline: a shard holding only the k = 0
// cell trains the baseline itself. k = 0 cells of different rules or λ but
// the same recipe are one directory, brought to Done once. Its status is
// the baseline directory's. (Naming the directory needs the input shape, so
// ResolveFrozen reads a few samples of the data; where it cannot, --list
// and --emit show the cell unnamed, and Run refuses it.)
//
// A baseline cell is audited with --no-baseline, not against itself: D3
// is skipped, while D1, D2, M2 and Γ are measured as for any run, so the
// report has them for the baseline too. This holds with NoBaseline as well:
// a k = 0 cell is then still trained, as the baseline it is. The depth
// ladder's k = 0 row reads the baseline's result.json.
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
