package sigma

import (
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/sigc-project/sigc/diag"
)

// File is one loaded rule file.
type File struct {
	Path       string
	Collection *Collection
	Diags      diag.List
}

// ExpandPaths turns files, directories (recursive *.yml / *.yaml) and "-"
// into an ordered list of files to load. In a directory, only regular
// files (or links to them) are taken: a FIFO or device would block or
// never end, so it is skipped with a warning, and a link to a directory
// is reported, not followed (it could loop); name it to read it.
func ExpandPaths(paths []string) ([]string, diag.List) {
	var out []string
	var diags diag.List
	for _, p := range paths {
		if p == "-" {
			out = append(out, p)
			continue
		}
		st, err := os.Stat(p)
		if err != nil {
			diags.Add(diag.Errorf(diag.Pos{File: p}, "cannot read: %v", unwrapPathErr(err)))
			continue
		}
		if !st.IsDir() {
			out = append(out, p) // named explicitly: a FIFO is read as asked
			continue
		}
		// A directory named through a link is walked: it was asked for.
		root := p
		if real, err := filepath.EvalSymlinks(p); err == nil && real != p {
			root = real
		}
		var found []string
		err = filepath.WalkDir(root, func(q string, d fs.DirEntry, err error) error {
			if root != p { // report the paths under the name the user gave
				if rel, rerr := filepath.Rel(root, q); rerr == nil {
					q = filepath.Join(p, rel)
				}
			}
			if err != nil {
				diags.Add(diag.Errorf(diag.Pos{File: q}, "cannot read: %v", unwrapPathErr(err)))
				return nil
			}
			if d.IsDir() {
				return nil
			}
			isRule := strings.HasSuffix(q, ".yml") || strings.HasSuffix(q, ".yaml")
			mode := d.Type()
			if mode&fs.ModeSymlink != 0 {
				target, err := os.Stat(q)
				switch {
				case err != nil:
					if isRule {
						diags.Add(diag.Warnf(diag.Pos{File: q}, "skipped: the symbolic link leads nowhere (%v)", unwrapPathErr(err)))
					}
					return nil
				case target.IsDir():
					diags.Add(diag.Warnf(diag.Pos{File: q}, "skipped: a symbolic link to a directory is not followed; name it on the command line to read it"))
					return nil
				}
				mode = target.Mode().Type()
			}
			if !isRule {
				return nil
			}
			if !mode.IsRegular() {
				diags.Add(diag.Warnf(diag.Pos{File: q}, "skipped: not a regular file (%s); name it on the command line to read it", kind(mode)))
				return nil
			}
			found = append(found, q)
			return nil
		})
		if err != nil {
			diags.Add(diag.Errorf(diag.Pos{File: p}, "cannot walk directory: %v", unwrapPathErr(err)))
		}
		sort.Strings(found)
		if len(found) == 0 {
			diags.Add(diag.Warnf(diag.Pos{File: p}, "directory holds no .yml or .yaml files"))
		}
		out = append(out, found...)
	}
	return out, diags
}

func kind(m fs.FileMode) string {
	switch {
	case m&fs.ModeNamedPipe != 0:
		return "a FIFO"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeDevice != 0:
		return "a device"
	}
	return "a special file"
}

func unwrapPathErr(err error) error {
	var pe *fs.PathError
	for {
		if e, ok := err.(*fs.PathError); ok {
			pe = e
			err = pe.Err
			continue
		}
		return err
	}
}

// ReadSource reads a rule or pipeline file ("-" is stdin), at most
// MaxFileSize bytes: it returns the name to report it by and its content,
// or a positioned diagnostic.
func ReadSource(path string, stdin io.Reader) (string, []byte, *diag.Diagnostic) {
	name := path
	var r io.Reader
	if path == "-" {
		name = "<stdin>"
		r = stdin
		if r == nil {
			r = strings.NewReader("")
		}
	} else {
		fh, err := os.Open(path)
		if err != nil {
			return name, nil, diag.Errorf(diag.Pos{File: path}, "cannot read: %v", unwrapPathErr(err))
		}
		defer fh.Close()
		if st, err := fh.Stat(); err == nil && st.IsDir() {
			return name, nil, diag.Errorf(diag.Pos{File: path}, "is a directory; name a file")
		}
		r = fh
	}
	src, err := io.ReadAll(io.LimitReader(r, MaxFileSize+1))
	if err != nil {
		return name, nil, diag.Errorf(diag.Pos{File: name}, "cannot read: %v", unwrapPathErr(err))
	}
	if len(src) > MaxFileSize {
		return name, nil, diag.Errorf(diag.Pos{File: name}, "file is larger than the %d-byte limit for a rule or pipeline file; is it really one?", MaxFileSize)
	}
	return name, src, nil
}

// LoadFile reads and parses one file ("-" is standard input).
func LoadFile(path string, stdin io.Reader) *File {
	f := &File{Path: path, Collection: &Collection{}}
	name, src, d := ReadSource(path, stdin)
	if d != nil {
		f.Diags.Add(d)
		return f
	}
	f.Collection, f.Diags = Load(name, src)
	if len(f.Diags) == 0 && len(f.Collection.Rules)+len(f.Collection.Filters)+len(f.Collection.Correlations) == 0 {
		f.Diags.Add(diag.Warnf(diag.Pos{File: name}, "holds no rule, filter or correlation (the file is empty or only has comments)"))
	}
	return f
}

// Merge joins collections (filters apply across files).
func Merge(files []*File) *Collection {
	out := &Collection{}
	for _, f := range files {
		out.Rules = append(out.Rules, f.Collection.Rules...)
		out.Filters = append(out.Filters, f.Collection.Filters...)
		out.Correlations = append(out.Correlations, f.Collection.Correlations...)
	}
	return out
}
