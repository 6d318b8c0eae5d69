//go:build !unix

package sigma

import "errors"

func syscallMkfifo(string) error { return errors.New("no FIFOs on this system") }
