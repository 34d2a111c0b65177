package train

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"

	"github.com/faudit/faudit/internal/safetensors"
	"github.com/faudit/faudit/model"
	"github.com/faudit/faudit/nn"
)

var optimPrefixes = []string{"optim.exp_avg.", "optim.exp_avg_sq.", "optim.momentum_buffer."}

// tensors are the saved values: every network parameter (frozen ones
// included), then the rule's feedback state.
func (r *runner[T]) tensors() []*nn.Param[T] {
	ts := r.net.Params()
	if st, ok := r.net.(model.Stateful[T]); ok {
		ts = append(ts, st.Buffers()...) // BatchNorm running statistics
	}
	return append(ts, r.rule.Feedback()...)
}

// CheckpointFormat names the layout of checkpoint.safetensors:
//   - one tensor per parameter, named as in PyTorch's state_dict
//     ("embed.weight", "blocks.0.w1.weight", …; Linear weights are [out, in]),
//     in the run's precision (F64 or F32);
//   - the rule's feedback matrices, "feedback.<weight name>" (fa, kp, frsf's
//     magnitudes) or "feedback.pos.<p>" (fa-block, dfa);
//   - the optimiser state, "optim.exp_avg.<param>" and
//     "optim.exp_avg_sq.<param>" (AdamW) or "optim.momentum_buffer.<param>"
//     (SGD);
//   - metadata (strings): format, faudit_version, config (config.json's
//     JSON), epoch (finished epochs), optimizer_step, and rng (how the
//     random streams are keyed).
const CheckpointFormat = "faudit-checkpoint-1"

func (r *runner[T]) saveCheckpoint(epoch int) error {
	var ts []safetensors.Tensor
	for _, p := range r.tensors() {
		ts = append(ts, safetensors.FromFloats(p.Name, p.Shape, p.W))
	}
	state, step := r.optim.State()
	for _, p := range r.rule.Params() {
		for _, prefix := range optimPrefixes {
			if buf, ok := state[prefix+p.Name]; ok {
				ts = append(ts, safetensors.FromFloats(prefix+p.Name, p.Shape, buf))
			}
		}
	}
	cfg, _ := json.Marshal(r.cfg)
	meta := map[string]string{
		"format":         CheckpointFormat,
		"faudit_version": r.cfg.Version,
		"config":         string(cfg),
		"epoch":          strconv.Itoa(epoch),
		"optimizer_step": strconv.FormatInt(step, 10),
		"rng": fmt.Sprintf("PCG(seed=%d, stream=1) drew the initial weights; epoch e shuffles with PCG(seed=%d, stream=1000+e); next epoch %d",
			r.cfg.Seed, r.cfg.Seed, epoch+1),
	}
	return safetensors.WriteFile(r.path(CheckpointFile), ts, meta)
}

// loadCheckpoint restores weights and optimiser state and returns the number
// of finished epochs (0 when the run was killed before its first one).
func (r *runner[T]) loadCheckpoint() (int, error) {
	path := r.path(CheckpointFile)
	ts, meta, err := safetensors.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, bad(fmt.Errorf("checkpoint %v", err))
	}
	if meta["format"] != CheckpointFormat {
		return 0, bad(fmt.Errorf("%s: format %q, expected %q", path, meta["format"], CheckpointFormat))
	}
	epoch, err1 := strconv.Atoi(meta["epoch"])
	step, err2 := strconv.ParseInt(meta["optimizer_step"], 10, 64)
	if err1 != nil || err2 != nil || epoch < 0 || epoch > r.cfg.Epochs {
		return 0, bad(fmt.Errorf("%s: bad epoch %q or optimizer_step %q in metadata", path, meta["epoch"], meta["optimizer_step"]))
	}
	byName := map[string]safetensors.Tensor{}
	for _, t := range ts {
		byName[t.Name] = t
	}
	load := func(name string, dst []T) error {
		t, ok := byName[name]
		if !ok {
			return bad(fmt.Errorf("%s: tensor %q is missing", path, name))
		}
		v, err := safetensors.ToFloats[T](t)
		if err != nil || len(v) != len(dst) {
			return bad(fmt.Errorf("%s: tensor %q has %d values, expected %d", path, name, len(v), len(dst)))
		}
		copy(dst, v)
		return nil
	}
	state, _ := r.optim.State()
	for _, p := range r.tensors() {
		if err := load(p.Name, p.W); err != nil {
			return 0, err
		}
	}
	for name, buf := range state {
		if err := load(name, buf); err != nil {
			return 0, err
		}
	}
	r.optim.SetStep(step)
	return epoch, nil
}

// LoadWeights reads the parameters of a checkpoint into params (converting
// precision if needed), for evaluation and audits.
func LoadWeights[T nn.Float](path string, params []*nn.Param[T]) error {
	ts, _, err := safetensors.ReadFile(path)
	if err != nil {
		return err
	}
	byName := map[string]safetensors.Tensor{}
	for _, t := range ts {
		byName[t.Name] = t
	}
	for _, p := range params {
		t, ok := byName[p.Name]
		if !ok {
			return fmt.Errorf("%s: tensor %q is missing", path, p.Name)
		}
		v, err := safetensors.ToFloats[T](t)
		if err != nil || len(v) != len(p.W) {
			return fmt.Errorf("%s: tensor %q has %d values, expected %d", path, p.Name, len(v), len(p.W))
		}
		copy(p.W, v)
	}
	return nil
}
