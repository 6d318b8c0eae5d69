package sigc_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDependencyDirection keeps the architecture: backends and the evaluator
// read only the IR (never sigma/ or each other), and the IR is stdlib-only
// apart from the diagnostic type.
func TestDependencyDirection(t *testing.T) {
	const mod = "github.com/sigc-project/sigc/"
	forbidden := map[string][]string{
		"backends/...": {"sigma", "compiler", "eval"},
		"eval/...":     {"sigma", "compiler", "backends"},
		"compiler/ir":  {"sigma", "compiler", "eval", "backends"},
		"sigma":        {"compiler", "eval", "backends"},
		"compiler/...": {"eval", "backends"},
	}
	for pkg, bad := range forbidden {
		out, err := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}}", "./"+pkg).CombinedOutput()
		if err != nil {
			t.Fatalf("go list %s: %v\n%s", pkg, err, out)
		}
		for _, dep := range strings.Fields(string(out)) {
			for _, b := range bad {
				if dep == mod+b || (strings.HasPrefix(dep, mod+b+"/") && !(b == "compiler" && strings.HasPrefix(dep, mod+"compiler/ir"))) {
					t.Errorf("%s depends on %s", pkg, dep)
				}
			}
		}
	}
}
