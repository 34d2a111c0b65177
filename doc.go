// Package faudit is a toolkit that trains deep networks with backpropagation
// and with feedback-alignment-family learning rules, and audits whether their
// credit assignment is real (see README.md). The command is cmd/faudit; the
// packages, from the bottom up, are internal/blas (GEMM), nn (layers), model
// (networks), train (optimisers, training loop, checkpoints) and data.
package faudit

// Version is written into every config, checkpoint and result file.
const Version = "0.1.0"
