package yamlpos

import (
	"bytes"
	"fmt"
	"io"
	"os"

	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/lexer"
	"github.com/goccy/go-yaml/parser"
	"github.com/goccy/go-yaml/token"
)

// Bounds on what cutover reads, so that no input file, however it was written, can
// take the memory or the minutes of the operator's machine. Each is far above what a
// runbook, a run file or an inventory of a site needs; going over one is an error
// naming the file, the line and the bound.
const (
	// MaxFileSize is the largest input file read (2 MiB: a runbook is some 30 KiB).
	MaxFileSize = 2 << 20
	// MaxDepth bounds how deeply mappings and lists nest (a runbook nests some 8 deep).
	MaxDepth = 64
	// MaxEntries bounds the entries of one mapping or list. The YAML parser's time
	// grows with the square of the keys of one mapping: 10,000 take it about half a
	// second, 30,000 several seconds.
	MaxEntries = 10_000
	// MaxNodes bounds the values a file stands for once its aliases are expanded: a
	// "billion laughs" file of a few lines stands for 10^9 of them.
	MaxNodes = 1_000_000
	// MaxDocuments bounds the YAML documents of one file.
	MaxDocuments = 100
)

// ReadFile reads an input file of at most MaxFileSize bytes: a larger one (or one that
// never ends, such as /dev/zero) is refused with the line where it goes over, having
// read no more than that.
func ReadFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	// One buffer of the file's size (at most the bound) and no more: a file larger
	// than the bound costs the bound, whatever its size or kind.
	hint := MaxFileSize + 1
	if fi, err := f.Stat(); err == nil {
		if fi.IsDir() {
			return nil, fmt.Errorf("%s is a folder, not a file", path)
		}
		if fi.Mode().IsRegular() && fi.Size() < int64(hint) {
			hint = int(fi.Size()) + 1
		}
	}
	buf := bytes.NewBuffer(make([]byte, 0, hint+bytes.MinRead))
	if _, err := buf.ReadFrom(io.LimitReader(f, MaxFileSize+1)); err != nil {
		return nil, err
	}
	data := buf.Bytes()
	if err := CheckSize(path, data); err != nil {
		return nil, err
	}
	return data, nil
}

// CheckSize refuses data longer than MaxFileSize, naming where it goes over.
func CheckSize(file string, data []byte) error {
	if len(data) <= MaxFileSize {
		return nil
	}
	head := data[:MaxFileSize]
	line := bytes.Count(head, []byte("\n")) + 1
	col := len(head) - bytes.LastIndexByte(head, '\n')
	return Errorf(Pos{File: file, Line: line, Col: col}, "the file is larger than %d MiB, the most cutover reads (runbooks, run files and inventories are far smaller)", MaxFileSize>>20)
}

// Parse reads YAML into its syntax tree within the bounds above: the file's size, then
// its tokens (depth, entries, documents) before the parser sees them, then its aliases
// expanded. Every reader of YAML in cutover parses through it (Decode does).
func Parse(file string, data []byte) (*ast.File, error) {
	if err := CheckSize(file, data); err != nil {
		return nil, err
	}
	tokens := lexer.Tokenize(string(data))
	if tk := tokens.InvalidToken(); tk != nil {
		// The parser words the error and places it.
		_, err := parser.Parse(tokens, 0)
		return nil, SetFile(convert(err), file)
	}
	if e := checkTokens(tokens); e != nil {
		e.Pos.File = file
		return nil, e
	}
	f, err := parser.Parse(tokens, 0)
	if err != nil {
		return nil, SetFile(convert(err), file)
	}
	for _, d := range f.Docs {
		c := &nodeCounter{anchors: map[string]int{}}
		c.count(d.Body)
		if c.err != nil {
			c.err.Pos.File = file
			return nil, c.err
		}
	}
	return f, nil
}

// level is an open mapping or list while the tokens are scanned.
type level struct {
	col     int  // the column of its keys or dashes (block); 0 in flow
	seq     bool // a list, not a mapping
	flow    bool
	entries int
}

// checkTokens finds the first place where the tokens go over MaxDepth, MaxEntries or
// MaxDocuments. It follows the block structure by columns: a key or a dash at a column
// left of an open collection closes it.
func checkTokens(tokens token.Tokens) *Error {
	var stack []*level
	docs := 0
	at := func(tk *token.Token) Pos { return Pos{Line: tk.Position.Line, Col: tk.Position.Column} }
	push := func(tk *token.Token, l *level) *Error {
		stack = append(stack, l)
		if len(stack) > MaxDepth {
			return Errorf(at(tk), "mappings and lists nest more than %d deep here", MaxDepth)
		}
		return nil
	}
	entry := func(tk *token.Token, l *level) *Error {
		l.entries++
		if l.entries > MaxEntries {
			kind := "mapping"
			if l.seq {
				kind = "list"
			}
			return Errorf(at(tk), "this %s has more than %d entries", kind, MaxEntries)
		}
		return nil
	}
	// block closes the block collections that a key or dash at col ends.
	block := func(col int, dash bool) *level {
		for len(stack) > 0 {
			top := stack[len(stack)-1]
			if top.flow || top.col < col || top.col == col && (top.seq == dash || !top.seq) {
				break
			}
			stack = stack[:len(stack)-1]
		}
		if len(stack) > 0 {
			if top := stack[len(stack)-1]; !top.flow && top.col == col && top.seq == dash {
				return top
			}
		}
		return nil
	}
	var err *Error
	for _, tk := range tokens {
		inFlow := len(stack) > 0 && stack[len(stack)-1].flow
		switch tk.Type {
		case token.DocumentHeaderType:
			stack = stack[:0]
			if docs++; docs > MaxDocuments {
				return Errorf(at(tk), "the file has more than %d YAML documents", MaxDocuments)
			}
		case token.SequenceStartType, token.MappingStartType:
			err = push(tk, &level{flow: true, seq: tk.Type == token.SequenceStartType})
		case token.SequenceEndType, token.MappingEndType:
			// Pop the flow collection and any block one opened inside it (invalid, and
			// the parser says so).
			for len(stack) > 0 {
				top := stack[len(stack)-1]
				stack = stack[:len(stack)-1]
				if top.flow {
					break
				}
			}
		case token.CollectEntryType:
			if inFlow {
				err = entry(tk, stack[len(stack)-1])
			}
		case token.SequenceEntryType:
			if inFlow {
				continue
			}
			col := tk.Position.Column
			if l := block(col, true); l != nil {
				err = entry(tk, l)
			} else {
				l := &level{col: col, seq: true}
				if err = push(tk, l); err == nil {
					err = entry(tk, l)
				}
			}
		case token.MappingValueType, token.MappingKeyType:
			if inFlow {
				continue
			}
			key := tk
			if tk.Type == token.MappingValueType && tk.Prev != nil {
				key = tk.Prev
			}
			col := key.Position.Column
			if l := block(col, false); l != nil {
				err = entry(key, l)
			} else {
				l := &level{col: col}
				if err = push(key, l); err == nil {
					err = entry(key, l)
				}
			}
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// nodeCounter counts the values a document stands for, each alias counted as the
// values of its anchor, and stops at the first alias that takes the count over
// MaxNodes.
type nodeCounter struct {
	anchors map[string]int // the count of each anchor defined so far
	total   int
	err     *Error
}

// count returns the values n stands for; aliases refer to anchors defined before them,
// so one pass in document order knows each alias's count when it meets it.
func (c *nodeCounter) count(n ast.Node) int {
	if n == nil || c.err != nil {
		return 0
	}
	switch x := n.(type) {
	case *ast.AnchorNode:
		size := c.count(x.Value)
		if x.Name != nil {
			c.anchors[x.Name.GetToken().Value] = size
		}
		return size
	case *ast.TagNode:
		return c.count(x.Value)
	case *ast.AliasNode:
		size := 1
		if x.Value != nil {
			size = max(1, c.anchors[x.Value.GetToken().Value])
		}
		c.add(size, x)
		return size
	}
	c.add(1, n)
	size := 1
	switch x := n.(type) {
	case *ast.MappingNode:
		for _, kv := range x.Values {
			size += c.count(kv)
		}
	case *ast.MappingValueNode:
		size += c.count(x.Key) + c.count(x.Value)
	case *ast.SequenceNode:
		for _, v := range x.Values {
			size += c.count(v)
		}
	}
	return size
}

func (c *nodeCounter) add(n int, at ast.Node) {
	c.total += n
	if c.total <= MaxNodes || c.err != nil {
		return
	}
	if _, alias := at.(*ast.AliasNode); alias {
		c.err = Errorf(PosOf(at), "the aliases in this file stand for more than %d values once expanded (an alias bomb): write the values out, or use fewer aliases", MaxNodes)
	} else {
		c.err = Errorf(PosOf(at), "the file stands for more than %d values", MaxNodes)
	}
}
