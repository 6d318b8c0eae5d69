// Package hostile is the hostile-input suite: for each class of input that
// once crashed, stalled or silently misled sigc (deep nesting, huge values,
// combinatorial conditions, broken records, special files, write failures,
// interrupts, corrupt archives), a generator and a run of the real binary
// bounded in time and peak memory, with the positioned error or the
// correct result it must end in. It has only tests.
package hostile
