module github.com/sigc-project/sigc

go 1.26.8

require (
	github.com/alecthomas/participle/v2 v2.1.4
	github.com/bradleyjkemp/sigma-go v0.6.6
	github.com/spf13/cobra v1.10.2
	github.com/wasilibs/go-re2 v1.13.0
	gopkg.in/yaml.v3 v3.0.1
)

require (
	github.com/BobuSumisu/aho-corasick v1.0.3 // indirect
	github.com/PaesslerAG/gval v1.0.0 // indirect
	github.com/PaesslerAG/jsonpath v0.1.1 // indirect
	github.com/alecthomas/participle v0.7.1 // indirect
	github.com/inconshreveable/mousetrap v1.1.0 // indirect
	github.com/spf13/pflag v1.0.9 // indirect
	golang.org/x/sys v0.48.0 // indirect
)
