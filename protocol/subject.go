package protocol

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"

	"github.com/faudit/faudit/internal/safetensors"
	"github.com/faudit/faudit/model"
	"github.com/faudit/faudit/nn"
	"github.com/faudit/faudit/rule"
	"github.com/faudit/faudit/train"
)

// Run is a run directory as written by faudit train.
type Run struct {
	Dir     string
	Config  train.Config
	Result  *train.Result // nil while the run is unfinished
	Metrics []train.EpochMetrics
	Tensors map[string][]float64 // the checkpoint, upcast to float64
	Epoch   int                  // finished epochs in the checkpoint
	Step    int64                // optimiser steps in the checkpoint
}

// LoadRun reads dir's config, metrics, result and checkpoint.
func LoadRun(dir string) (*Run, error) {
	r := &Run{Dir: dir}
	b, err := os.ReadFile(filepath.Join(dir, train.ConfigFile))
	if err != nil {
		return nil, fmt.Errorf("%s: not a faudit run directory (%v)", dir, errors.Unwrap(err))
	}
	if err := json.Unmarshal(b, &r.Config); err != nil {
		return nil, fmt.Errorf("%s: corrupt (%v)", filepath.Join(dir, train.ConfigFile), err)
	}
	if b, err := os.ReadFile(filepath.Join(dir, train.ResultFile)); err == nil {
		r.Result = new(train.Result)
		if err := json.Unmarshal(b, r.Result); err != nil {
			return nil, fmt.Errorf("%s: corrupt (%v)", filepath.Join(dir, train.ResultFile), err)
		}
	}
	if b, err := os.ReadFile(filepath.Join(dir, train.MetricsFile)); err == nil {
		dec := json.NewDecoder(bytes.NewReader(b))
		for dec.More() {
			var m train.EpochMetrics
			if err := dec.Decode(&m); err != nil {
				return nil, fmt.Errorf("%s: corrupt line (%v)", filepath.Join(dir, train.MetricsFile), err)
			}
			r.Metrics = append(r.Metrics, m)
		}
	}
	path := filepath.Join(dir, train.CheckpointFile)
	ts, meta, err := safetensors.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("checkpoint: %v", err)
	}
	r.Tensors = map[string][]float64{}
	for _, t := range ts {
		v, err := safetensors.ToFloats[float64](t)
		if err != nil {
			return nil, fmt.Errorf("%s: %v", path, err)
		}
		r.Tensors[t.Name] = v
	}
	r.Epoch, _ = strconv.Atoi(meta["epoch"])
	r.Step, _ = strconv.ParseInt(meta["optimizer_step"], 10, 64)
	return r, nil
}

// NewSubject rebuilds a trained network in float64 (and float32) from its
// config and saved tensors, with its rule and the rule's saved feedback.
func NewSubject(cfg train.Config, tensors map[string][]float64, step int64) (*Subject, error) {
	net, err := replica[float64](cfg, tensors)
	if err != nil {
		return nil, err
	}
	net32, err := replica[float32](cfg, tensors)
	if err != nil {
		return nil, err
	}
	// No Penalty: the reference g_p is the gradient of the cross-entropy
	// alone, and a rule's credit does not include the penalty's own term.
	r, err := rule.New(cfg.Rule, model.Network[float64](net), rule.Options{FeedbackSeed: cfg.FeedbackSeed, FeedbackScale: cfg.FeedbackScale, TrainBlocks: cfg.TrainBlocks, LocalNorm: cfg.LocalNorm})
	if err != nil {
		return nil, err
	}
	if err := fill(r.Feedback(), tensors); err != nil {
		return nil, err
	}
	return &Subject{Net: net, Rule: r, Net32: net32, Step: step}, nil
}

func replica[T nn.Float](cfg train.Config, tensors map[string][]float64) (model.Credited[T], error) {
	net, err := model.New[T](cfg.Model, rand.New(rand.NewPCG(0, 0)))
	if err != nil {
		return nil, err
	}
	ps := net.Params()
	if s, ok := net.(model.Stateful[T]); ok {
		ps = append(ps, s.Buffers()...)
	}
	return net, fill(ps, tensors)
}

func fill[T nn.Float](ps []*nn.Param[T], tensors map[string][]float64) error {
	for _, p := range ps {
		v, ok := tensors[p.Name]
		if !ok || len(v) != len(p.W) {
			return fmt.Errorf("checkpoint: tensor %q missing or of the wrong size (%d values, expected %d)", p.Name, len(v), len(p.W))
		}
		for i, x := range v {
			p.W[i] = T(x)
		}
	}
	return nil
}
