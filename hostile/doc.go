// Package hostile is the hostile-input suite: for each class of input that
// once crashed, stalled or silently misled sigc (deep nesting, huge values,
// combinatorial conditions, broken records, special files, write failures,
// interrupts, corrupt archives), a generator and a run of the real binary
// bounded in time and peak memory, with the positioned error or the
// correct result it must end in.
//
// The packages the binary is built from are imported here only so that a
// change to them invalidates go test's cached result of this suite (the
// build it runs is invisible to the cache).
package hostile

import (
	_ "github.com/sigc-project/sigc/backends"
	_ "github.com/sigc-project/sigc/compiler"
	_ "github.com/sigc-project/sigc/eval"
	_ "github.com/sigc-project/sigc/eval/logs"
	_ "github.com/sigc-project/sigc/sigma"
)
