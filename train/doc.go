// Package train runs a training job: it loads the data, builds the model,
// steps the optimiser (AdamW or SGD with momentum, cosine schedule), and
// writes the run directory:
//
//	config.json              every setting, with the faudit version
//	checkpoint.safetensors   weights, optimiser state, epoch and RNG state
//	metrics.jsonl            one JSON object per finished epoch
//	result.json              the final numbers
//
// Every file is written to a temporary name and renamed, so a run killed at
// any moment (kill -9 included) leaves a consistent directory, and Resume
// continues it to the same bytes an uninterrupted run would have written:
// the shuffling of epoch e is drawn from a PCG stream keyed by (seed, e), so
// the RNG state needed to resume is the epoch counter itself.
//
// Training loss is PyTorch's mean-reduced cross-entropy over each batch of
// --batch samples.
package train
