package nn

// Param is one trainable tensor: its values W, its gradient G (same length),
// a name that identifies it in checkpoints ("blocks.0.w1.weight") and a shape
// in PyTorch's convention (Linear weight: [out, in]).
type Param[T Float] struct {
	Name  string
	Shape []int
	W, G  []T
}

// NewParam allocates a zero parameter of the given shape.
func NewParam[T Float](name string, shape ...int) *Param[T] {
	n := 1
	for _, s := range shape {
		n *= s
	}
	return &Param[T]{Name: name, Shape: shape, W: make([]T, n), G: make([]T, n)}
}
