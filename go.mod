module github.com/cutover/cutover

go 1.26.0

require (
	github.com/expr-lang/expr v1.17.8
	github.com/goccy/go-yaml v1.19.2
	github.com/pkg/sftp v1.13.12
	github.com/skeema/knownhosts v1.3.3
	golang.org/x/crypto v0.58.0
	golang.org/x/sys v0.49.0
)

require github.com/kr/fs v0.1.0 // indirect
