//go:build !unix

package main

import "io/fs"

func linkCount(fs.FileInfo) uint64  { return 1 }
func keepOwner(string, fs.FileInfo) {}
