package model

import (
	"fmt"
	"math/rand/v2"

	"github.com/faudit/faudit/nn"
)

// NewViT builds ViT-Mini (not implemented yet).
func NewViT[T nn.Float](cfg Config, rng *rand.Rand) (Credited[T], error) {
	return nil, fmt.Errorf("--arch vit: not available in this build yet")
}

func (c Config) validateViT() error { return nil }
