package main

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// writeFile writes data to path so that a failure never leaves a partial
// file and nothing else at the path is harmed:
//   - a new or ordinary file is written to a temporary file beside it and
//     renamed over it, keeping the old file's mode (a new one gets 0666
//     less the umask) and, where allowed, its owner;
//   - a symbolic link is followed, and its target written that way;
//   - a file with several hard links is rewritten in place, after a
//     complete copy was written beside it (kept, and named, if the
//     rewrite fails), so every link sees the new content;
//   - a device, FIFO or socket (/dev/null, /dev/stdout) is written through.
func writeFile(path string, data []byte) error {
	if strings.HasSuffix(path, string(filepath.Separator)) {
		return fmt.Errorf("%s: error: is a directory; give -o a file name", path)
	}
	resolved, err := resolveLinks(path)
	if err != nil {
		return fmt.Errorf("%s: error: cannot follow the symbolic link: %v", path, unwrapPath(err))
	}
	st, err := os.Stat(resolved)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return replaceFile(resolved, data, nil)
	case err != nil:
		return fmt.Errorf("%s: error: cannot write: %v", path, unwrapPath(err))
	case st.IsDir():
		return fmt.Errorf("%s: error: is a directory; give -o a file name", path)
	case !st.Mode().IsRegular():
		f, err := os.OpenFile(resolved, os.O_WRONLY, 0)
		if err != nil {
			return fmt.Errorf("%s: error: cannot write: %v", path, unwrapPath(err))
		}
		_, err = f.Write(data)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("%s: error: cannot write: %v", path, unwrapPath(err))
		}
		return nil
	case linkCount(st) > 1:
		return rewriteInPlace(resolved, data)
	}
	return replaceFile(resolved, data, st)
}

// resolveLinks follows symbolic links at path (a dangling link resolves to
// the file it names, which is then created).
func resolveLinks(path string) (string, error) {
	for hops := 0; ; hops++ {
		st, err := os.Lstat(path)
		if errors.Is(err, fs.ErrNotExist) {
			return path, nil
		}
		if err != nil || st.Mode()&fs.ModeSymlink == 0 {
			return path, err
		}
		if hops == 40 {
			return "", errors.New("too many levels of symbolic links")
		}
		target, err := os.Readlink(path)
		if err != nil {
			return "", err
		}
		if !filepath.IsAbs(target) {
			target = filepath.Join(filepath.Dir(path), target)
		}
		path = target
	}
}

// createTemp makes a new file beside path; the kernel applies the umask to
// perm.
func createTemp(path string, perm fs.FileMode) (*os.File, error) {
	var b [8]byte
	for i := 0; ; i++ {
		rand.Read(b[:])
		name := filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+"."+hex.EncodeToString(b[:])+".tmp")
		f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, perm)
		if err == nil || !errors.Is(err, fs.ErrExist) || i == 10 {
			return f, err
		}
	}
}

// writeTemp writes data to a new temporary file beside path and syncs it.
func writeTemp(path string, data []byte, perm fs.FileMode) (string, error) {
	tmp, err := createTemp(path, perm)
	if err != nil {
		return "", err
	}
	_, err = tmp.Write(data)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(tmp.Name())
		return "", err
	}
	return tmp.Name(), nil
}

func replaceFile(path string, data []byte, old fs.FileInfo) error {
	perm := fs.FileMode(0o666)
	if old != nil {
		perm = old.Mode().Perm()
	}
	tmp, err := writeTemp(path, data, perm)
	if err != nil {
		return fmt.Errorf("%s: error: cannot write: %v", path, unwrapPath(err))
	}
	if old != nil {
		os.Chmod(tmp, old.Mode().Perm()) // the umask must not narrow an existing file's mode
		keepOwner(tmp, old)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("%s: error: cannot write: %v", path, unwrapPath(err))
	}
	return nil
}

func rewriteInPlace(path string, data []byte) error {
	tmp, err := writeTemp(path, data, 0o600)
	if err != nil {
		return fmt.Errorf("%s: error: cannot write: %v", path, unwrapPath(err))
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_TRUNC, 0)
	if err == nil {
		_, err = f.Write(data)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		return fmt.Errorf("%s: error: cannot rewrite the file (it has several hard links, so it is written in place): %v; the complete output is in %s", path, unwrapPath(err), tmp)
	}
	os.Remove(tmp)
	return nil
}

func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	var le *os.LinkError
	if errors.As(err, &le) {
		return le.Err
	}
	return err
}

// sameFile reports whether out names one of the input files (through links
// too), so `-o rule.yml rule.yml` cannot overwrite a rule with its query.
func sameFile(out string, inputs []string) (string, bool) {
	ost, err := os.Stat(out)
	if err != nil {
		return "", false
	}
	for _, in := range inputs {
		if in == "-" {
			continue
		}
		if ist, err := os.Stat(in); err == nil && os.SameFile(ost, ist) {
			return in, true
		}
	}
	return "", false
}
