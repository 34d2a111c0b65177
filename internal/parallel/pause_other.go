//go:build !amd64

package parallel

func pause() {}
