package compiler

import (
	"bytes"
	"fmt"

	"gopkg.in/yaml.v3"

	"io"
	"regexp"
	"strconv"

	"github.com/sigc-project/sigc/diag"
)

func bytesReader(b []byte) io.Reader { return bytes.NewReader(b) }

// safeDecode turns a panic inside the YAML library into an error.
func safeDecode(dec *yaml.Decoder, v any) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("yaml: %v", r)
		}
	}()
	return dec.Decode(v)
}

var pipelineLineRE = regexp.MustCompile(`line (\d+): (.*)`)

func yamlPipelineError(path string, err error) *diag.Diagnostic {
	if m := pipelineLineRE.FindStringSubmatch(err.Error()); m != nil {
		line, _ := strconv.Atoi(m[1])
		return diag.Errorf(diag.Pos{File: path, Line: line, Col: 1}, "bad pipeline: %s; a pipeline has `name`, `vars` and `field_mapping`", m[2])
	}
	return diag.Errorf(diag.Pos{File: path, Line: 1, Col: 1}, "bad pipeline: %v", err)
}
