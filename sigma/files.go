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
// into an ordered list of files to load.
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
			out = append(out, p)
			continue
		}
		var found []string
		err = filepath.WalkDir(p, func(q string, d fs.DirEntry, err error) error {
			if err != nil {
				diags.Add(diag.Errorf(diag.Pos{File: q}, "cannot read: %v", unwrapPathErr(err)))
				return nil
			}
			if !d.IsDir() && (strings.HasSuffix(q, ".yml") || strings.HasSuffix(q, ".yaml")) {
				found = append(found, q)
			}
			return nil
		})
		if err != nil {
			diags.Add(diag.Errorf(diag.Pos{File: p}, "cannot walk directory: %v", err))
		}
		sort.Strings(found)
		if len(found) == 0 {
			diags.Add(diag.Warnf(diag.Pos{File: p}, "directory holds no .yml or .yaml files"))
		}
		out = append(out, found...)
	}
	return out, diags
}

func unwrapPathErr(err error) error {
	if pe, ok := err.(*fs.PathError); ok {
		return pe.Err
	}
	return err
}

// LoadFile reads and parses one file ("-" is standard input).
func LoadFile(path string, stdin io.Reader) *File {
	f := &File{Path: path, Collection: &Collection{}}
	name := path
	var r io.Reader
	if path == "-" {
		name = "<stdin>"
		r = stdin
	} else {
		fh, err := os.Open(path)
		if err != nil {
			f.Diags.Add(diag.Errorf(diag.Pos{File: path}, "cannot read: %v", unwrapPathErr(err)))
			return f
		}
		defer fh.Close()
		r = fh
	}
	src, err := io.ReadAll(io.LimitReader(r, MaxFileSize+1))
	if err != nil {
		f.Diags.Add(diag.Errorf(diag.Pos{File: name}, "cannot read: %v", err))
		return f
	}
	if len(src) > MaxFileSize {
		f.Diags.Add(diag.Errorf(diag.Pos{File: name}, "file is larger than the %d-byte limit for a rule file; is it really a Sigma rule?", MaxFileSize))
		return f
	}
	f.Collection, f.Diags = Load(name, src)
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
