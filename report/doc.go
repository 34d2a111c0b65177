// Package report aggregates every run directory under a root into the
// audit table, plots and the paper's two summary analyses, and writes them
// as Markdown, CSV, JSON and one self-contained HTML file (faudit report).
//
// A run directory holds config.json and result.json (written by faudit
// train), metrics.jsonl (one line per epoch, with an "audit" record when the
// run was trained with --audit-every) and, once audited, audit.json. Runs
// with train_blocks 0, or under a baselines/ directory, are frozen-blocks
// baselines: the D3 comparator and the k = 0 rung of the depth ladder.
//
// Runs are grouped by their config minus seed, feedback seed, faudit
// version, GEMM backend, GOMAXPROCS and the in-training audit cadence
// (audit_every, audit_n), i.e. one group per rule × architecture ×
// settings, its runs being seeds. Per group the report gives:
//   - accuracy, aggregate Γ, per-position Γ, D3 lead, M2 and nudging as
//     mean ± std over seeds (std with ddof = 1; "—" with one seed);
//   - D1 growth, ‖h_p‖, ‖g_p‖ and the D2 values as geometric means over
//     seeds (they span orders of magnitude);
//   - the verdict: the common one when every audited seed agrees, else
//     "FAIL k/n" with how often each check fired.
//
// When audits carry the fresh-B null (faudit audit --fresh-b N), a section
// sets, per group and position, Γ with the training feedback (mean ± std
// over runs) beside Γ with fresh feedback (mean of the runs' means over
// draws ± the pooled std over draws), with Δ, Δ/σ and a reading: alignment
// specific to the trained B when |Γ_fresh| < 2σ and |Γ_train| > 3σ. Without
// any null the section says how to get one.
//
// The two summary analyses are calibration margins (paper §5.11: healthy-
// and failing-side extremes of each check's quantity and the range of
// thresholds that keeps every verdict) with a decision table (what the
// standard pair would accept beside what the protocol says), and cosine vs
// function (paper §8.5: groups ranked by deep Γ beside their rankings by
// accuracy, nudging, training-loss decrease and D3 lead, with Kendall τ_b).
//
// Load reads the runs, Build computes the report, and Write renders the
// plots (package chart) and writes every file into the output directory.
package report
