package steps

import (
	"strings"
	"unicode"
)

// A quoted value is one word only where the shell reads a word: not inside quotes the
// runbook wrote around it ('{{ x }}' would end the author's quotes with the value's
// own), a comment or a here-document (where a newline in the value starts a command),
// backquotes or ${...} (whose ends the shell finds before it parses quotes), or
// arithmetic (which evaluates its text). holeContexts reads command text the way the
// shell does and says, for each {{ }} hole between the literal parts lits, what
// surrounds it: "" where one quoted word belongs, else the reason it does not.
func holeContexts(q quoting, lits []string) []string {
	var text []rune
	var holes []int // positions in text of the hole markers
	for i, l := range lits {
		text = append(text, []rune(l)...)
		if i < len(lits)-1 {
			holes = append(holes, len(text))
			text = append(text, 'x') // a hole reads as a word character
		}
	}
	isHole := make(map[int]int, len(holes))
	for i, h := range holes {
		isHole[h] = i
	}
	out := make([]string, len(holes))
	if q == forPS {
		lexPS(text, isHole, out)
	} else {
		lexSh(text, isHole, out)
	}
	return out
}

// shState is where the POSIX sh lexer is.
type shState int

const (
	shTop     shState = iota // unquoted, at the top or inside $( )
	shSQ                     // '...'
	shDQ                     // "..."
	shBackq                  // `...`
	shParam                  // ${...}
	shArith                  // $((...))
	shComment                // # to the end of the line
)

// frame is one context of a lexer: its state, the parentheses open inside it, and
// whether it is a command substitution ($( ), which a ")" at depth 0 ends).
type frame[S any] struct {
	st    S
	depth int
	sub   bool
}

type shFrame = frame[shState]

// shWordStart reports whether a # after r starts a comment.
func shWordStart(r rune) bool {
	return r == 0 || unicode.IsSpace(r) || strings.ContainsRune(";&|()<>", r)
}

// frames is a lexer's stack of nested contexts; the outermost one is never popped.
type frames[F any] []F

func (s *frames[F]) top() *F  { return &(*s)[len(*s)-1] }
func (s *frames[F]) push(f F) { *s = append(*s, f) }
func (s *frames[F]) pop() {
	if len(*s) > 1 {
		*s = (*s)[:len(*s)-1]
	}
}

// runeAt is text[i], or 0 past either end.
func runeAt(text []rune, i int) rune {
	if i >= 0 && i < len(text) {
		return text[i]
	}
	return 0
}

func lexSh(text []rune, isHole map[int]int, out []string) {
	stack := frames[shFrame]{{st: shTop}}
	top, pop := stack.top, stack.pop
	push := func(st shState, sub bool) { stack.push(shFrame{st: st, sub: sub}) }
	type heredoc struct {
		delim string
		strip bool
	}
	var pending []heredoc
	prev := rune(0)
	at := func(i int) rune { return runeAt(text, i) }
	for i := 0; i < len(text); i++ {
		r := text[i]
		if h, ok := isHole[i]; ok {
			switch f := top(); {
			case f.st == shTop && prev == '\\':
				out[h] = "right after a backslash, which would escape the value's opening quote"
			case f.st == shTop && prev == '$':
				out[h] = "right after $, which would make the value's quotes part of an expansion"
			case f.st == shTop:
			default:
				out[h] = shWhere[f.st]
			}
			prev = 'x'
			continue
		}
		f := top()
		switch f.st {
		case shSQ:
			if r == '\'' {
				pop()
			}
		case shComment:
			if r == '\n' {
				pop()
				i-- // the newline ends the line for here-documents too
				prev = 0
				continue
			}
		case shDQ:
			switch {
			case r == '\\':
				i++
			case r == '"':
				pop()
			case r == '`':
				push(shBackq, false)
			case r == '$' && at(i+1) == '(' && at(i+2) == '(':
				push(shArith, false)
				i, r = i+2, '('
			case r == '$' && at(i+1) == '(':
				push(shTop, true)
				i, r = i+1, '('
			case r == '$' && at(i+1) == '{':
				push(shParam, false)
				i, r = i+1, '{'
			}
		case shBackq:
			switch r {
			case '\\':
				i++
			case '`':
				pop()
			}
		case shParam:
			switch r {
			case '}':
				pop()
			case '\'':
				push(shSQ, false)
			case '"':
				push(shDQ, false)
			}
		case shArith:
			switch {
			case r == '(':
				f.depth++
			case r == ')' && f.depth > 0:
				f.depth--
			case r == ')' && at(i+1) == ')':
				pop()
				i++
			}
		case shTop:
			switch {
			case r == '\\':
				if _, hole := isHole[i+1]; !hole {
					i++ // the escaped character is literal
					r = 'x'
				}
			case r == '\'':
				push(shSQ, false)
			case r == '"':
				push(shDQ, false)
			case r == '`':
				push(shBackq, false)
			case r == '#' && shWordStart(prev):
				push(shComment, false)
			case r == '$' && at(i+1) == '\'':
				push(shSQ, false) // $'...' quotes like '...' where it is special at all
				i++
			case r == '$' && at(i+1) == '(' && at(i+2) == '(':
				push(shArith, false)
				i, r = i+2, '('
			case r == '$' && at(i+1) == '(':
				push(shTop, true)
				i, r = i+1, '('
			case r == '$' && at(i+1) == '{':
				push(shParam, false)
				i, r = i+1, '{'
			case r == '<' && at(i+1) == '<' && at(i+2) == '<':
				i += 2 // a here-string (bash): its word is an ordinary word
			case r == '(' && f.sub:
				f.depth++
			case r == ')' && f.sub:
				if f.depth == 0 {
					pop()
				} else {
					f.depth--
				}
			case r == '<' && at(i+1) == '<' && at(i+2) != '<':
				// A here-document: its delimiter word, then its body from the next line.
				j := i + 2
				strip := at(j) == '-'
				if strip {
					j++
				}
				for at(j) == ' ' || at(j) == '\t' {
					j++
				}
				var d strings.Builder
				for ; j < len(text) && !unicode.IsSpace(text[j]) && !strings.ContainsRune(";&|<>()", text[j]); j++ {
					if h, ok := isHole[j]; ok {
						out[h] = "in a here-document's delimiter"
					}
					if !strings.ContainsRune(`'"\`, text[j]) {
						d.WriteRune(text[j])
					}
				}
				pending = append(pending, heredoc{d.String(), strip})
				i = j - 1
				r = 'x'
			case r == '\n' && len(pending) > 0:
				// Here-document bodies, one after another, until each delimiter line.
				j := i + 1
				for _, hd := range pending {
					for j < len(text) {
						end := j
						for end < len(text) && text[end] != '\n' {
							end++
						}
						line := string(text[j:end])
						if hd.strip {
							line = strings.TrimLeft(line, "\t")
						}
						done := line == hd.delim
						if !done {
							for k := j; k < end; k++ {
								if h, ok := isHole[k]; ok {
									out[h] = "inside a here-document, where a newline in the value would end it early (write files with a write action)"
								}
							}
						}
						j = end + 1
						if done {
							break
						}
					}
				}
				pending = nil
				i = j - 1
				r = '\n'
			}
		}
		prev = r
	}
}

var shWhere = map[shState]string{
	shSQ:      "inside single quotes, which the value's own quoting would end",
	shDQ:      "inside double quotes, where the shell would still expand $(...) and backquotes in the value",
	shBackq:   "inside backquotes, whose end the shell finds before it reads the value's quotes (use $( ) instead)",
	shParam:   "inside ${...}, whose end the shell finds before it reads the value's quotes",
	shArith:   "inside $((...)), which evaluates its text",
	shComment: "inside a comment, which a newline in the value would end",
}

// PowerShell's quote characters: it takes the typographic ones for quotes too.
const (
	psSingleQuotes = "'\u2018\u2019\u201a\u201b"
	psDoubleQuotes = "\"\u201c\u201d\u201e"
)

type psState int

const (
	psTop     psState = iota // unquoted, at the top or inside $( )
	psSQ                     // '...'
	psDQ                     // "..."
	psHereSQ                 // @'...'@
	psHereDQ                 // @"..."@
	psComment                // # to the end of the line
	psBlock                  // <# ... #>
)

type psFrame = frame[psState]

func lexPS(text []rune, isHole map[int]int, out []string) {
	stack := frames[psFrame]{{st: psTop}}
	top, pop := stack.top, stack.pop
	push := func(st psState, sub bool) { stack.push(psFrame{st: st, sub: sub}) }
	at := func(i int) rune { return runeAt(text, i) }
	isSQ := func(r rune) bool { return r != 0 && strings.ContainsRune(psSingleQuotes, r) }
	isDQ := func(r rune) bool { return r != 0 && strings.ContainsRune(psDoubleQuotes, r) }
	// hereStart reports whether a here-string opens at i (@ and a quote, then the line's end).
	hereStart := func(i int) bool {
		j := i + 2
		for at(j) == ' ' || at(j) == '\t' {
			j++
		}
		return at(j) == '\n' || (at(j) == '\r' && at(j+1) == '\n')
	}
	prev := rune(0)
	for i := 0; i < len(text); i++ {
		r := text[i]
		if h, ok := isHole[i]; ok {
			next := at(i + 1)
			if _, hole := isHole[i+1]; hole {
				next = ' '
			}
			switch f := top(); {
			case f.st == psTop && prev == '`':
				out[h] = "right after a backtick, which would escape the value's opening quote"
			case f.st == psTop && prev == '$':
				out[h] = "right after $, which would make the value part of a variable name"
			case f.st == psTop && (unicode.IsLetter(next) || unicode.IsDigit(next) || strings.ContainsRune(`\/_`, next)):
				out[h] = "directly followed by text, which PowerShell would pass as a second argument (use Join-Path, or ({{ }} + '...'))"
			case f.st == psTop:
			default:
				out[h] = psWhere[f.st]
			}
			prev = 'x'
			continue
		}
		f := top()
		switch f.st {
		case psSQ:
			if isSQ(r) {
				if isSQ(at(i + 1)) {
					i++ // a doubled quote is a quote
				} else {
					pop()
				}
			}
		case psDQ:
			switch {
			case r == '`':
				i++
			case isDQ(r) && isDQ(at(i+1)):
				i++
			case isDQ(r):
				pop()
			case r == '$' && at(i+1) == '(':
				push(psTop, true)
				i, r = i+1, '('
			}
		case psHereSQ, psHereDQ:
			end := '\''
			if f.st == psHereDQ {
				end = '"'
			}
			if r == '\n' && (at(i+1) == end || (f.st == psHereSQ && isSQ(at(i+1))) || (f.st == psHereDQ && isDQ(at(i+1)))) && at(i+2) == '@' {
				pop()
				i += 2
			}
		case psComment:
			if r == '\n' {
				pop()
			}
		case psBlock:
			if r == '#' && at(i+1) == '>' {
				pop()
				i++
			}
		case psTop:
			switch {
			case r == '`':
				if _, hole := isHole[i+1]; !hole {
					i++
					r = 'x'
				}
			case r == '@' && isSQ(at(i+1)) && hereStart(i):
				push(psHereSQ, false)
				i++
			case r == '@' && isDQ(at(i+1)) && hereStart(i):
				push(psHereDQ, false)
				i++
			case isSQ(r):
				push(psSQ, false)
			case isDQ(r):
				push(psDQ, false)
			case r == '<' && at(i+1) == '#':
				push(psBlock, false)
				i++
			case r == '#' && shWordStart(prev):
				push(psComment, false)
			case r == '(' && f.sub:
				f.depth++
			case r == ')' && f.sub:
				if f.depth == 0 {
					pop()
				} else {
					f.depth--
				}
			}
		}
		prev = r
	}
}

var psWhere = map[psState]string{
	psSQ:      "inside single quotes, which the value's own quoting would end",
	psDQ:      "inside double quotes, where PowerShell would still expand $(...) and $variables in the value",
	psHereSQ:  "inside a here-string, which a line of the value could end",
	psHereDQ:  "inside a here-string, which a line of the value could end and where PowerShell expands $(...)",
	psComment: "inside a comment, which a newline in the value would end",
	psBlock:   "inside a comment, which #> in the value would end",
}
