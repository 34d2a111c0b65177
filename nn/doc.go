// Package nn holds faudit's layers: each one a pair of plain functions,
// forward and backward, generic over float32 and float64, with one comment
// giving the shapes. Matrices are row-major; a batch of B vectors of width D
// is a []T of length B·D. Weights use PyTorch's layout (out×in), so a
// checkpoint opens in PyTorch unchanged.
//
// Backward functions overwrite their outputs (parameter gradients included);
// a caller that needs a sum adds explicitly. Linear's backward takes the
// matrix that carries the error to the input as an argument: the weight W
// itself for backpropagation, a fixed random B for feedback alignment. That
// one argument is where the credit-assignment rules differ from BP.
//
// Every backward is checked against central finite differences in float64
// (gradcheck_test.go).
package nn
