//go:build unix

package main

import (
	"io/fs"
	"os"
	"syscall"
)

func linkCount(st fs.FileInfo) uint64 {
	if s, ok := st.Sys().(*syscall.Stat_t); ok {
		return uint64(s.Nlink)
	}
	return 1
}

// keepOwner gives the new file the old one's owner and group where the
// process may (root rewriting another user's file); elsewhere it is a no-op.
func keepOwner(path string, old fs.FileInfo) {
	if s, ok := old.Sys().(*syscall.Stat_t); ok {
		os.Lchown(path, int(s.Uid), int(s.Gid))
	}
}
