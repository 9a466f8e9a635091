package yamlpos

import (
	"fmt"

	yaml "github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
)

// Locator finds where a part of a decoded file is written, for errors found after
// decoding (a name that refers to nothing, a value of the wrong shape).
type Locator struct {
	file string
	body ast.Node
}

// NewLocator parses data (within Parse's bounds) for At; a file that does not parse
// locates everything at its start.
func NewLocator(file string, data []byte) *Locator {
	l := &Locator{file: file}
	if f, err := Parse(file, data); err == nil && len(f.Docs) == 1 {
		l.body = f.Docs[0].Body
	}
	return l
}

// At is the position of the node at a YAML path such as $.hosts[0].files[2] (the path
// written with format and args), or the file's start when there is none.
func (l *Locator) At(format string, args ...any) Pos {
	if l.body != nil {
		if p, err := yaml.PathString(fmt.Sprintf(format, args...)); err == nil {
			if n, err := p.FilterNode(l.body); err == nil && n != nil {
				pos := PosOf(n)
				pos.File = l.file
				return pos
			}
		}
	}
	return Pos{File: l.file, Line: 1, Col: 1}
}
