package model

import (
	"fmt"
	"math/rand/v2"

	"github.com/faudit/faudit/nn"
)

// NewCNN builds the small BatchNorm CNN (not implemented yet).
func NewCNN[T nn.Float](cfg Config, rng *rand.Rand) (Credited[T], error) {
	return nil, fmt.Errorf("--arch cnn: not available in this build yet")
}

func (c Config) validateCNN() error { return nil }
